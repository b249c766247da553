/**
 * A private npm registry for the `@vms` scope, on 127.0.0.1, serving the packed workspace: what a
 * company's registry for its own scope does. With `@vms:registry` pointing at it (an npmrc of
 * the test's own), the READMEs' `npm install -g @vms/cli @vms/docker` runs as written: `@vms/*`
 * comes from here, everything else (zod, execa, @types/node, …) from the public npm registry, and
 * no `@vms` name is ever asked of the public registry.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { PackedPackage } from './workspace-packs.js';

export interface PackRegistry {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** Package names requested so far (to show what an install asked for). */
  readonly requested: string[];
  /**
   * Environment for npm: a user config with `@vms:registry` and a global prefix in a fresh temp
   * dir (`dir`), the run's npm cache, and npm's nags off. `PATH` starts with the prefix's `bin`.
   */
  npmEnv(): { dir: string; prefix: string; bin: string; env: NodeJS.ProcessEnv };
  close(): Promise<void>;
}

/**
 * This process's environment as a user's shell has it: without what the package manager running
 * the tests adds (its `npm_*` variables, pnpm's NODE_PATH naming every workspace package, the
 * workspace's `node_modules/.bin` directories on PATH).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE_PATH'),
  );
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => dir && !dir.endsWith('/node_modules/.bin'))
    .join(':');
  return env;
}

/**
 * npm's global config file (`<npm's prefix>/etc/npmrc`): it moves with the prefix, so a temp
 * prefix would lose the machine's settings (e.g. the `cafile` a TLS-intercepting network needs)
 * unless it is named.
 */
let globalConfig: string | undefined;
function npmGlobalConfig(): string {
  globalConfig ??= execFileSync('npm', ['config', 'get', 'globalconfig'], {
    env: userEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  }).trim();
  return globalConfig;
}

export async function startPackRegistry(packs: PackedPackage[]): Promise<PackRegistry> {
  const byName = new Map(packs.map((p) => [p.name, p]));
  const byFile = new Map(packs.map((p) => [basename(p.file), p]));
  const requested: string[] = [];
  let url = '';
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path.startsWith('-/')) {
      const pack = byFile.get(path.slice(2));
      if (!pack) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(pack.file).pipe(res);
      return;
    }
    requested.push(path);
    const pack = byName.get(path);
    if (!pack) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const document = {
      _id: pack.name,
      name: pack.name,
      'dist-tags': { latest: pack.version },
      versions: {
        [pack.version]: {
          ...pack.manifest,
          _id: `${pack.name}@${pack.version}`,
          dist: {
            tarball: `${url}-/${basename(pack.file)}`,
            integrity: pack.integrity,
            shasum: pack.shasum,
          },
        },
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    requested,
    npmEnv() {
      const dir = mkdtempSync(join(tmpdir(), 'docs-npm-'));
      const prefix = join(dir, 'prefix');
      const npmrc = join(dir, 'npmrc');
      writeFileSync(npmrc, `@vms:registry=${url}\n`);
      const bin = join(prefix, 'bin');
      return {
        dir,
        prefix,
        bin,
        env: {
          ...userEnv(),
          PATH: `${bin}:${userEnv().PATH}`,
          npm_config_globalconfig: npmGlobalConfig(),
          npm_config_userconfig: npmrc,
          npm_config_prefix: prefix,
          // One cache per test run, shared by its installs (npm's cache is safe to share).
          npm_config_cache: join(tmpdir(), 'docs-npm-cache'),
          npm_config_update_notifier: 'false',
          npm_config_fund: 'false',
          npm_config_audit: 'false',
          npm_config_loglevel: 'error',
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
