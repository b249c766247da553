/**
 * A real image registry for pull tests: Debian's `docker-registry` (distribution 2.8) serving on
 * 127.0.0.1 at a free port, with its config and storage in a temp dir of the test run, optionally
 * behind basic auth (an htpasswd file made with `htpasswd -B`, bcrypt being all it reads).
 *
 * The process dies with the test worker however the run ends: it runs under
 * `setpriv --pdeathsig KILL` (the kernel kills it when its parent goes), `stop()` ends it in
 * afterAll, and an exit hook ends it when the worker exits normally.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:<port>`, the registry part of image references. */
  readonly host: string;
  /** Basic-auth credentials, when started with them. */
  readonly credentials?: { username: string; password: string };
  /** Its temp dir (config, htpasswd, storage). */
  readonly dir: string;
  /** Ends the process and removes its dir. */
  stop(): Promise<void>;
}

export interface TestRegistryOptions {
  /** Require basic auth with these credentials. */
  credentials?: { username: string; password: string };
  /** Parent dir for its temp dir (default the OS temp dir). */
  parentDir?: string;
}

/** Why a registry cannot be started here, or undefined when it can. */
export function registrySkipReason(): string | undefined {
  for (const [tool, pkg] of [
    ['docker-registry', 'docker-registry'],
    ['htpasswd', 'apache2-utils'],
    ['setpriv', 'util-linux'],
  ] as const) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'pipe' });
    } catch {
      return `${tool} is not installed (apt-get install ${pkg}; scripts/ci/containers.sh does)`;
    }
  }
  return undefined;
}

/** A free port on 127.0.0.1 (bound, then closed): nothing listens there until someone binds it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** GET /v2/ answers 200 (open) or 401 (auth): the registry is up. */
function answers(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://${host}/v2/`, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

const live = new Set<ChildProcess>();
let hooked = false;
function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(options.parentDir ?? os.tmpdir(), 'vms-registry-'));
  const auth = options.credentials;
  let lastLog = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
    ];
    if (auth) {
      const htpasswd = execFileSync('htpasswd', ['-nbB', auth.username, auth.password], {
        encoding: 'utf8',
      });
      writeFileSync(path.join(dir, 'htpasswd'), htpasswd, { mode: 0o600 });
      lines.push(
        'auth:',
        '  htpasswd:',
        '    realm: vms-test',
        `    path: ${JSON.stringify(path.join(dir, 'htpasswd'))}`,
      );
    }
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    const config = path.join(dir, 'config.yml');
    writeFileSync(config, `${lines.join('\n')}\n`);
    const child = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'docker-registry', 'serve', config],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    killOnExit(child);
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 30_000;
    // Wait on the real condition: the registry answers /v2/.
    while (child.exitCode === null && !(await answers(host))) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.exitCode === null && (await answers(host))) {
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      };
      return { host, dir, ...(auth ? { credentials: auth } : {}), stop };
    }
    child.kill('SIGKILL');
    lastLog = log;
    // Most likely the port was taken between probing and binding: try another.
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start: ${lastLog}`);
}
