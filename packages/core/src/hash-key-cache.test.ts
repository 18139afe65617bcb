import { describe, expect, it } from 'vitest';
import { hashKeyOf } from './hash-key.js';
import { HashKeyCache } from './hash-key-cache.js';

describe('HashKeyCache', () => {
  it('answers what hashKeyOf answers, with the UTF-8 length', () => {
    const cache = new HashKeyCache(4);
    for (const key of ['a', 'ü', 'partition-7', '']) {
      expect(cache.get(key)).toEqual({ hashKey: hashKeyOf(key), byteLength: Buffer.byteLength(key) });
      expect(cache.hashKeyOf(key)).toBe(hashKeyOf(key));
    }
  });

  it('reuses what it computed and starts over when full, never growing past its capacity', () => {
    const cache = new HashKeyCache(2);
    const first = cache.get('a');
    expect(cache.get('a')).toBe(first);
    cache.get('b');
    expect(cache.size).toBe(2);
    cache.get('c');
    expect(cache.size).toBe(1);
    expect(cache.get('a')).not.toBe(first);
    expect(cache.get('a')).toEqual(first);
  });

  it('hands out a bound hashKeyOf that can be passed around', () => {
    const { hashKeyOf: cached } = new HashKeyCache();
    expect(['x', 'y'].map(cached)).toEqual([hashKeyOf('x'), hashKeyOf('y')]);
  });
});
