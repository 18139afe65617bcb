/** Structured fields of a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Where the consumer writes log lines. Compatible with pino, winston and console-like loggers through a
 * small adapter. Everything logged is also available as a typed event.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Warnings and errors to the console; debug and info dropped (events carry them for those who want them). */
export const consoleLogger: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: (message: string, fields?: LogFields) => console.warn(`[kinesis-consumer] ${message}`, fields ?? ''),
  error: (message: string, fields?: LogFields) => console.error(`[kinesis-consumer] ${message}`, fields ?? ''),
});

/** Drops everything; for tests. */
export const silentLogger: Logger = Object.freeze({ debug: () => {}, info: () => {}, warn: () => {}, error: () => {} });
