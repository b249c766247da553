/**
 * The page's static files, built into `dist/web/` by `scripts/build-web.mjs` and read into
 * memory when the server starts: only those files are ever served (no path from a request
 * reaches the file system), and nothing is fetched from anywhere at run time.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmsError } from '@vms/core';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export interface Asset {
  type: string;
  body: Buffer;
}

/**
 * Where the built page is: `web/` next to this module (the package's dist/web), `../web/` (a
 * bundle that ships the page beside its code, as vms-all does), or the package's dist/web when
 * run from src.
 */
export function defaultAssetsDir(): string {
  const candidates = ['./web/', '../web/', '../dist/web/'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const built = (dir: string) =>
    existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js'));
  return candidates.find(built) ?? (candidates[0] as string);
}

/** Every file of `dir` (one level), by URL path (`/index.html`, `/app.js`, …). */
export function loadAssets(dir = defaultAssetsDir()): Map<string, Asset> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new VmsError('OPERATION_FAILED', `the dashboard's page is missing from ${dir}`, {
      hint: 'build @vms/ui first (pnpm --filter @vms/ui build) or reinstall it',
    });
  }
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}
