import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { effectiveHashKey, hashKeyFromDigest, hashKeyOf, parseExplicitHashKey } from './hash-key.js';
import { MAX_HASH_KEY } from './limits.js';

describe('hashKeyOf', () => {
  // Digests from `printf %s KEY | md5sum`, read as a big-endian integer.
  it.each([
    ['', 0xd41d8cd98f00b204e9800998ecf8427en],
    ['a', 0x0cc175b9c0f1b6a831c399e269772661n],
    ['partitionKey-0', 0xd593fc2c1c22ffb3f0109b2c4a73d4dfn],
    ['ü', 0xc03410a5204b21cd8229ff754688d743n],
  ])('hashes %j as MD5 of its UTF-8 bytes', (key, expected) => {
    expect(hashKeyOf(key)).toBe(expected);
  });

  it('always yields a value in the 128-bit key space', () => {
    for (let i = 0; i < 1000; i++) {
      const h = hashKeyOf(`key-${i}`);
      expect(h >= 0n && h <= MAX_HASH_KEY).toBe(true);
    }
  });
});

describe('hashKeyFromDigest', () => {
  it('reads the digest big-endian', () => {
    const digest = new Uint8Array(16);
    digest[15] = 1;
    expect(hashKeyFromDigest(digest)).toBe(1n);
    digest[0] = 0x80;
    expect(hashKeyFromDigest(digest)).toBe((1n << 127n) + 1n);
  });

  it('rejects digests that are not 16 bytes', () => {
    expect(() => hashKeyFromDigest(new Uint8Array(15))).toThrow(ValidationError);
  });
});

describe('parseExplicitHashKey', () => {
  it.each([
    ['0', 0n],
    ['42', 42n],
    ['00042', 42n],
    // Leading zeros beyond 40 characters: the value is what must fit (issue 11: rejected before).
    [`${'0'.repeat(60)}42`, 42n],
    [`${'0'.repeat(10)}${MAX_HASH_KEY}`, MAX_HASH_KEY],
    ['0'.repeat(50), 0n],
    [MAX_HASH_KEY.toString(), MAX_HASH_KEY],
    [7n, 7n],
  ])('accepts %s', (value, expected) => {
    expect(parseExplicitHashKey(value)).toBe(expected);
  });

  it.each([
    '',
    '-1',
    '+1',
    ' 1',
    '1.5',
    '1e3',
    '0x10',
    'abc',
    (MAX_HASH_KEY + 1n).toString(),
    '9'.repeat(60),
    `${'0'.repeat(10)}${MAX_HASH_KEY + 1n}`,
    -1n,
    MAX_HASH_KEY + 1n,
  ])('rejects %s with a ValidationError naming the value', (value) => {
    let caught: unknown;
    try {
      parseExplicitHashKey(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe('explicitHashKey');
    expect((caught as ValidationError).value).toBe(value);
    expect((caught as Error).message).toContain(String(value).slice(0, 20));
  });
});

describe('effectiveHashKey', () => {
  it('prefers the explicit hash key', () => {
    expect(effectiveHashKey('a', '5')).toBe(5n);
    expect(effectiveHashKey('a')).toBe(hashKeyOf('a'));
  });
});
