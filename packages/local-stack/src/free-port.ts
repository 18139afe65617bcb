import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1. For servers that cannot listen on port 0 themselves
 * (kinesis-mock takes its ports from the environment); the port could in principle be taken again before
 * the server binds it, which the caller's readiness check would report.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not read a free port');
  return address.port;
}
