import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as consumerDefaults from '@kinesis-kit/consumer';
import * as producerDefaults from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';

// The guides link to the package READMEs for option tables instead of copying them; these tests keep those
// tables honest against the DEFAULT_* constants the code uses, and every relative link pointing somewhere.
const root = fileURLToPath(new URL('../../', import.meta.url));

/** `DEFAULT_RECORD_MAX_BUFFERED_TIME` → `recordMaxBufferedTime`. */
function optionName(constant: string): string {
  return constant
    .replace(/^DEFAULT_/, '')
    .toLowerCase()
    .replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** The README's options-table row for `option`, or undefined. */
function row(readme: string, option: string): string | undefined {
  return readme.split('\n').find((line) => line.startsWith(`| \`${option}\``));
}

/** Whether a row's default cell shows `value` (numbers with any digit grouping). */
function showsDefault(line: string, value: unknown): boolean {
  const cells = line.split('|').map((cell) => cell.trim());
  const shown = cells[2] ?? '';
  if (typeof value === 'number') {
    if (value === Number.POSITIVE_INFINITY) return shown.includes('Infinity');
    return shown.replace(/[^\d]/g, '').startsWith(String(value));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.values(value).every((part) =>
      shown
        .replace(/[^\d\s]/g, ' ')
        .split(/\s+/)
        .includes(String(part)),
    );
  }
  return shown.includes(String(value));
}

const packages = [
  // Defaults that are not user options (internal timings) are not in the options tables.
  { name: 'producer', defaults: producerDefaults, skip: new Set<string>() },
  { name: 'consumer', defaults: consumerDefaults, skip: new Set(['maxPendingProcessRecordsInput', 'takeConcurrency']) },
];

describe('option tables in the package READMEs', () => {
  for (const { name, defaults, skip } of packages) {
    const readme = readFileSync(join(root, 'packages', name, 'README.md'), 'utf8');
    const constants = Object.entries(defaults).filter(([key]) => key.startsWith('DEFAULT_'));
    it.each(constants.filter(([key]) => !skip.has(optionName(key))))(`${name}: %s is documented`, (key, value) => {
      const line = row(readme, optionName(key));
      expect(line, `no row for ${optionName(key)} in packages/${name}/README.md`).toBeDefined();
      expect(showsDefault(line ?? '', value), `${optionName(key)} row does not show ${String(value)}`).toBe(true);
    });
  }
});

describe('relative links in the docs', () => {
  const files = [
    'README.md',
    'examples/README.md',
    'packages/cli/README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((file) => file.endsWith('.md'))
      .map((file) => `docs/${file}`),
  ];
  it.each(files)('%s links only to files that exist', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
      .map((match) => match[1] ?? '')
      .filter((target) => !/^[a-z]+:/.test(target));
    const missing = targets.filter((target) => !existsSync(resolve(dirname(join(root, file)), target)));
    expect(missing).toEqual([]);
  });
});
