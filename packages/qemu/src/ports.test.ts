import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pickFreePort } from './ports.js';

describe('port choice', () => {
  it('returns a loopback port that is free to bind', async () => {
    const port = await pickFreePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, resolve);
    });
    server.close();
  });
});
