import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { listenOnLoopback } from './embedded-server.js';
import { DEFAULT_STATUS_DELAY_MS, type EmulatorOptions, type EmulatorServer } from './emulator-server.js';

/** The options of dynalite's factory that we use. */
interface DynaliteOptions {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}

const require = createRequire(import.meta.url);

/**
 * Starts dynalite, a DynamoDB emulator, in this process on 127.0.0.1, keeping its data in memory. It has the
 * conditional writes a lease table needs; it lacks transactions, PartiQL and TTL.
 */
export async function startDynalite(options: EmulatorOptions = {}): Promise<EmulatorServer> {
  const delay = options.statusDelayMs ?? DEFAULT_STATUS_DELAY_MS;
  const createServer = require('dynalite') as (options: DynaliteOptions) => Server;
  const server = createServer({ createTableMs: delay, deleteTableMs: delay, updateTableMs: delay });
  return listenOnLoopback('dynalite', server, options.port);
}
