import { ValidationError } from './errors.js';

/**
 * Option checks shared by every package, so every bad option reads the same way: "`field` must be `rule`, got
 * `value`" (`recordTtl must be a whole number ≥ 100, got 5`), as a {@link ValidationError} carrying the field and
 * the value. Each takes the option's name, its value and the default, and returns the value to use: the default
 * when the value is `undefined`.
 */

/** How a rejected value is shown: strings quoted (so an empty or padded one is visible), other values as text. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Throws the one-wording {@link ValidationError}: "`field` must be `rule`, got `value`". */
export function invalidOption(field: string, rule: string, value: unknown): never {
  throw new ValidationError(`${field} must be ${rule}, got ${describeValue(value)}`, { field, value });
}

/** Bounds of a number option; `max` defaults to none. */
export interface NumberRule {
  readonly min: number;
  readonly max?: number;
  /** Accept `Infinity` too ("no limit"). @defaultValue false */
  readonly allowInfinity?: boolean;
}

function range(rule: NumberRule): string {
  const span = rule.max === undefined ? `≥ ${rule.min}` : `from ${rule.min} to ${rule.max}`;
  return `${span}${rule.allowInfinity === true ? ' or Infinity' : ''}`;
}

/** A safe integer within `rule` (or `Infinity` when allowed). */
export function validateWholeNumber(field: string, value: unknown, fallback: number, rule: NumberRule): number {
  if (value === undefined) return fallback;
  if (rule.allowInfinity === true && value === Number.POSITIVE_INFINITY) return value;
  const max = rule.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < rule.min || value > max) {
    invalidOption(field, `a whole number ${range(rule)}`, value);
  }
  return value;
}

/** A finite number within `rule` (or `Infinity` when allowed): durations, ratios. */
export function validateNumber(field: string, value: unknown, fallback: number, rule: NumberRule): number {
  if (value === undefined) return fallback;
  if (rule.allowInfinity === true && value === Number.POSITIVE_INFINITY) return value;
  const max = rule.max ?? Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > max) {
    invalidOption(field, `a number ${range(rule)}`, value);
  }
  return value;
}

/** `true` or `false`. */
export function validateBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') invalidOption(field, 'true or false', value);
  return value;
}

/** One of a fixed set of strings. */
export function validateOneOf<T extends string>(field: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const names = allowed.map((name) => `'${name}'`);
    const list = names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
    invalidOption(field, list, value);
  }
  return value as T;
}

/** A string that is not empty and, when a pattern is given, matches it (names of streams, tables, workers). */
export function validateString(field: string, value: unknown, fallback: string, pattern?: RegExp): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') invalidOption(field, 'a non-empty string', value);
  if (pattern !== undefined && !pattern.test(value)) invalidOption(field, `a string matching ${pattern}`, value);
  return value;
}
