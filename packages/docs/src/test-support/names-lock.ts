/**
 * README blocks name their instances (`ci-job-1`, `box`, `app`, …) and ports (8765, 7380, 8080):
 * two such blocks at once (two test files of a run, or two doc test runs on one machine) would
 * fight over them on the shared engine and host. Blocks that use such names run under this machine-wide
 * lock: an abstract unix socket (Linux), held while bound and released by the kernel when the
 * holder exits however it ends, so nothing is left on disk and a killed run never blocks the next.
 */
import net from 'node:net';

const NAME = '\0vms-docs-readme-names';

function tryBind(): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen(NAME, () => resolve(server));
  });
}

/** Holds the lock while `work` runs; waits (with a deadline) while another process holds it. */
export async function withReadmeNames<T>(work: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let server = await tryBind();
  let delay = 100;
  while (!server) {
    if (Date.now() > deadline)
      throw new Error(`another doc test run held the README names lock for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2_000);
    server = await tryBind();
  }
  try {
    return await work();
  } finally {
    await new Promise((r) => server.close(r));
  }
}
