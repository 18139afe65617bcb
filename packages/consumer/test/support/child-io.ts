/** What the consumer tests' child worker processes share: their settings come from the environment, their reports go out as JSON lines. */

/** The environment variable `name`; throws if the parent did not set it. */
export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

/** Writes one JSON line to stdout, where the parent test reads it. */
export function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
