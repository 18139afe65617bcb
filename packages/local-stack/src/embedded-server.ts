import type { Server } from 'node:http';
import type { EmulatorServer } from './emulator-server.js';

/**
 * Listens with an in-process emulator's HTTP server on 127.0.0.1 and wraps it as an {@link EmulatorServer}.
 * kinesalite and dynalite both hand back a plain `http.Server`.
 */
export async function listenOnLoopback(name: string, server: Server, port = 0): Promise<EmulatorServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${name} did not report a TCP address`);
  let stopped: Promise<void> | undefined;
  return {
    name,
    endpoint: `http://127.0.0.1:${address.port}`,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets held by SDK clients would otherwise keep close() waiting.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
