import { describe, expect, it } from 'vitest';
import type { ProducerTime } from './producer-time.js';
import { RateLimiter } from './rate-limiter.js';

const at = (ms: number) => ms as ProducerTime;

describe('RateLimiter', () => {
  it('allows one second of the scaled record limit, then refills continuously', () => {
    const limiter = new RateLimiter(150, at(0));
    let taken = 0;
    while (limiter.tryTake(10, at(0))) taken++;
    expect(taken).toBe(1500);
    expect(limiter.availableAt(10, at(0))).toBe(1);
    expect(limiter.tryTake(10, at(1))).toBe(true);
    expect(limiter.tryTake(10, at(1))).toBe(false);
  });

  it('limits bytes independently of records', () => {
    const limiter = new RateLimiter(100, at(0));
    expect(limiter.tryTake(1024 * 1024, at(0))).toBe(true);
    expect(limiter.tryTake(1, at(0))).toBe(false);
    expect(limiter.availableAt(512 * 1024, at(0))).toBe(500);
    expect(limiter.tryTake(512 * 1024, at(499))).toBe(false);
    expect(limiter.tryTake(512 * 1024, at(500))).toBe(true);
  });

  it('lets a record larger than the bucket through once the bucket is full', () => {
    const limiter = new RateLimiter(50, at(0));
    expect(limiter.tryTake(1024 * 1024, at(0))).toBe(true);
    expect(limiter.tryTake(1024 * 1024, at(500))).toBe(false);
    expect(limiter.availableAt(1024 * 1024, at(500))).toBe(2000);
    expect(limiter.tryTake(1024 * 1024, at(2000))).toBe(true);
  });

  it('gives back tokens of a record that was not sent', () => {
    const limiter = new RateLimiter(1, at(0));
    for (let i = 0; i < 10; i++) expect(limiter.tryTake(1, at(0))).toBe(true);
    expect(limiter.tryTake(1, at(0))).toBe(false);
    limiter.giveBack(1);
    expect(limiter.tryTake(1, at(0))).toBe(true);
  });
});
