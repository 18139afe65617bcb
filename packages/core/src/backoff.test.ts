import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, DEFAULT_THROTTLING_BACKOFF, validateBackoff } from './backoff.js';
import { ValidationError } from './errors.js';

const justBelowOne = (): number => 1 - Number.EPSILON;

describe('backoffDelay', () => {
  it.each([
    // attempt, base, max, cap = min(max, base·2^attempt)
    [0, 100, 20_000, 100],
    [1, 100, 20_000, 200],
    [3, 100, 20_000, 800],
    [7, 100, 20_000, 12_800],
    [8, 100, 20_000, 20_000],
    [50, 100, 20_000, 20_000],
    [0, 500, 20_000, 500],
  ])('attempt %i with base %i and max %i draws from [0, %i)', (attempt, baseMs, maxMs, cap) => {
    const options = { baseMs, maxMs };
    expect(backoffDelay(attempt, options, () => 0)).toBe(0);
    expect(backoffDelay(attempt, options, () => 0.5)).toBe(Math.floor(cap / 2));
    expect(backoffDelay(attempt, options, justBelowOne)).toBe(cap - 1);
  });

  it('stays finite for absurd attempt numbers and a zero base', () => {
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, justBelowOne)).toBe(19_999);
    expect(backoffDelay(10_000, { baseMs: 0, maxMs: 0 }, justBelowOne)).toBe(0);
    expect(backoffDelay(-3, DEFAULT_BACKOFF, () => 0.5)).toBe(50);
  });

  it('spreads retries over the whole window with the default random source', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(2, DEFAULT_BACKOFF));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(400);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });

  it('backs off longer after throttling', () => {
    expect(DEFAULT_THROTTLING_BACKOFF.baseMs).toBeGreaterThan(DEFAULT_BACKOFF.baseMs);
  });
});

describe('validateBackoff', () => {
  it.each([
    [{ baseMs: -1, maxMs: 10 }, /backoff.baseMs/],
    [{ baseMs: Number.NaN, maxMs: 10 }, /backoff.baseMs/],
    [{ baseMs: 10, maxMs: 5 }, /backoff.maxMs/],
    [{ baseMs: 10, maxMs: Number.POSITIVE_INFINITY }, /backoff.maxMs/],
  ])('rejects %j', (options, message) => {
    expect(() => validateBackoff(options)).toThrow(ValidationError);
    expect(() => validateBackoff(options)).toThrow(message);
  });

  it('accepts a zero backoff (the fast strategy tests use)', () => {
    expect(() => validateBackoff({ baseMs: 0, maxMs: 0 })).not.toThrow();
  });
});
