import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './cli-error.js';
import type { CommandContext } from './context.js';

/** Option definitions in node:util parseArgs' shape. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values, as parseArgs returns them. */
export type OptionValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** One `kinesis-kit` command: its words, its help and what it does. */
export interface Command {
  /** The words that select it, e.g. `['stream', 'split']`. */
  readonly path: readonly string[];
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis after `kinesis-kit`, e.g. `stream split <stream> <shard> [--hash-key K]`. */
  readonly synopsis: string;
  /** The rest of the help: what it does, its options, examples. */
  readonly help: string;
  readonly options: OptionSpec;
  /** Resolves with the exit code. */
  run(context: CommandContext, values: OptionValues, positionals: readonly string[]): Promise<number>;
}

/** A string option's value, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean option's value (false when absent). */
export function booleanOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** A whole-number option within bounds, or `fallback` when absent. */
export function integerOption(values: OptionValues, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Exactly the positional arguments named in `names`; too few or too many is a usage error. */
export function positionalArgs<N extends string>(
  positionals: readonly string[],
  names: readonly N[],
): Record<N, string> {
  if (positionals.length < names.length) {
    throw new UsageError(
      `missing ${names
        .slice(positionals.length)
        .map((name) => `<${name}>`)
        .join(' ')}`,
    );
  }
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  }
  const result = {} as Record<N, string>;
  names.forEach((name, i) => {
    result[name] = positionals[i] ?? '';
  });
  return result;
}
