/**
 * Host ports for forwards. A port is picked by binding 127.0.0.1:0 and released just before QEMU
 * binds it; the small window between release and QEMU's bind is closed by the launcher, which
 * retries with fresh ports when QEMU reports "Could not set up host forwarding rule" (two
 * instances started at once can never both get the same port: the second bind fails).
 */
import { createServer } from 'node:net';

export function pickFreePort(hostIp = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: hostIp, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** QEMU's message when a hostfwd port is taken. */
export const HOSTFWD_BUSY = /Could not set up host forwarding rule/;
