import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import {
  describeValue,
  validateBoolean,
  validateNumber,
  validateOneOf,
  validateString,
  validateWholeNumber,
} from './validate-options.js';

describe('validate-options', () => {
  it.each([
    [
      'a whole number ≥ 1',
      () => validateWholeNumber('maxRecords', 0, 5, { min: 1 }),
      'maxRecords must be a whole number ≥ 1, got 0',
    ],
    [
      'a range',
      () => validateWholeNumber('n', 2.5, 5, { min: 1, max: 10 }),
      'n must be a whole number from 1 to 10, got 2.5',
    ],
    [
      'Infinity only when allowed',
      () => validateWholeNumber('n', Number.POSITIVE_INFINITY, 5, { min: 1 }),
      'n must be a whole number ≥ 1, got Infinity',
    ],
    [
      'a number',
      () => validateNumber('ratio', Number.NaN, 1, { min: 0, max: 1 }),
      'ratio must be a number from 0 to 1, got NaN',
    ],
    ['a string given for a number', () => validateNumber('ms', '5', 1, { min: 0 }), 'ms must be a number ≥ 0, got "5"'],
    [
      'a boolean',
      () => validateBoolean('aggregationEnabled', 'yes', true),
      'aggregationEnabled must be true or false, got "yes"',
    ],
    [
      'one of',
      () => validateOneOf('metricsLevel', 'all', 'none', ['none', 'summary', 'detailed']),
      "metricsLevel must be 'none', 'summary' or 'detailed', got \"all\"",
    ],
    [
      'a non-empty string',
      () => validateString('workerIdentifier', '', 'w'),
      'workerIdentifier must be a non-empty string, got ""',
    ],
    [
      'a pattern',
      () => validateString('streamName', 'a b', 's', /^[\w.-]+$/),
      'streamName must be a string matching /^[\\w.-]+$/, got "a b"',
    ],
  ])('says what %s must be, and what it got', (_, check, message) => {
    expect(check).toThrow(ValidationError);
    expect(check).toThrow(message);
  });

  it('names the field and keeps the value on the error', () => {
    try {
      validateWholeNumber('maxRecords', 0, 5, { min: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'VALIDATION', field: 'maxRecords', value: 0 });
    }
  });

  it.each([
    ['the default for undefined', validateWholeNumber('n', undefined, 7, { min: 1 }), 7],
    ['a good whole number', validateWholeNumber('n', 3, 7, { min: 1 }), 3],
    [
      'Infinity when allowed',
      validateWholeNumber('n', Number.POSITIVE_INFINITY, 7, { min: 1, allowInfinity: true }),
      Number.POSITIVE_INFINITY,
    ],
    ['a fraction', validateNumber('r', 0.5, 1, { min: 0, max: 1 }), 0.5],
    ['false', validateBoolean('b', false, true), false],
    ['an allowed name', validateOneOf('l', 'summary', 'none', ['none', 'summary']), 'summary'],
    ['a matching string', validateString('s', 'orders', 'x', /^\w+$/), 'orders'],
  ])('returns %s', (_, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it.each([
    ['a string, quoted', ' x ', '" x "'],
    ['a number', 5, '5'],
    ['an object', { a: 1 }, '{"a":1}'],
    ['a function', () => {}, 'a function'],
    ['an invalid Date', new Date(Number.NaN), 'an invalid Date'],
    ['null', null, 'null'],
  ])('describes %s', (_, value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
