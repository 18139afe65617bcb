import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './run-cli.js';

// docs/cli.md is written from the commands' own help; this keeps the two from drifting apart.
const reference = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md', () => {
  it.each(COMMANDS.map((command) => [command.path.join(' '), command] as const))(
    'documents `%s` with its current synopsis and options',
    (_name, command) => {
      expect(reference).toContain(`kinesis-kit ${command.synopsis}`);
      for (const option of Object.keys(command.options)) expect(reference).toContain(`--${option}`);
    },
  );
});
