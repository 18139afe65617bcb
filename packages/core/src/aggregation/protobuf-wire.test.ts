import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readUtf8, utf8Length, varintSize, writeUtf8, writeVarint } from './protobuf-wire.js';

/** Any sequence of UTF-16 code units, lone surrogates included. */
const anyUtf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
  maxLength: 300,
});

describe('varintSize and writeVarint', () => {
  it.each([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16_383, 'ff7f'],
    [16_384, '808001'],
    [2 ** 21 - 1, 'ffff7f'],
    [2 ** 21, '80808001'],
    [2 ** 28 - 1, 'ffffff7f'],
    [2 ** 28, '8080808001'],
    [2 ** 31 - 1, 'ffffffff07'],
    [2 ** 31, '8080808008'],
    [2 ** 32, '8080808010'],
    [2 ** 35, '808080808001'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
  ])('writes %d as %s', (value, hex) => {
    const out = new Uint8Array(10);
    const end = writeVarint(out, 0, value);
    expect(Buffer.from(out.subarray(0, end)).toString('hex')).toBe(hex);
    expect(varintSize(value)).toBe(end);
  });

  it('agrees on the size for any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        expect(writeVarint(new Uint8Array(10), 0, value)).toBe(varintSize(value));
      }),
    );
  });

  it('writes at the given position and leaves the bytes around it alone', () => {
    const out = new Uint8Array(6).fill(0xee);
    expect(writeVarint(out, 2, 300)).toBe(4);
    expect([...out]).toEqual([0xee, 0xee, 0xac, 0x02, 0xee, 0xee]);
  });
});

describe('utf8Length', () => {
  it.each([
    ['', 0],
    ['a', 1],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud800', 3],
    ['\udc00x', 4],
    ['\ud83d\ude00\ud83d', 7],
  ])('counts %j as %d bytes', (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
  });

  it('matches Buffer.byteLength for any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(anyUtf16, fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('writeUtf8', () => {
  it('writes the bytes Buffer writes, at the position given', () => {
    fc.assert(
      fc.property(fc.oneof(anyUtf16, fc.string({ unit: 'binary', maxLength: 200 })), fc.nat(8), (text, pos) => {
        const length = utf8Length(text);
        const out = new Uint8Array(pos + length + 2).fill(0xee);
        expect(writeUtf8(out, pos, text, length)).toBe(pos + length);
        expect(Buffer.from(out.subarray(pos, pos + length)).equals(Buffer.from(text, 'utf8'))).toBe(true);
        expect([...out.subarray(0, pos), ...out.subarray(pos + length)].every((byte) => byte === 0xee)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('readUtf8', () => {
  it('decodes what writeUtf8 writes, long and short', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (text) => {
        const bytes = Buffer.from(`xy${text}z`, 'utf8');
        expect(readUtf8(bytes, 2, bytes.length - 1)).toBe(text);
      }),
    );
  });

  it('replaces invalid sequences with U+FFFD as TextDecoder does, and keeps a BOM', () => {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
        expect(readUtf8(bytes, 0, bytes.length)).toBe(decoder.decode(bytes));
      }),
    );
    expect(readUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), 0, 4)).toBe('\ufeffa');
    expect(readUtf8(new Uint8Array([0x61, 0xff, 0x62]), 0, 3)).toBe('a\ufffdb');
  });
});
