// A port nobody listens on right now, for private servers in tests and local runs.
import { createServer } from 'node:net';

/**
 * Asks the kernel for an unused port by binding port 0, then releases it. The port could in
 * principle be taken again before the caller binds it; the kernel hands ephemeral ports out in
 * rotation, so in practice that race is rare enough for tests and local development.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: the server has no TCP address'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
