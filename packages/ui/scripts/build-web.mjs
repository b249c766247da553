// Bundles the page (web/) into dist/web/: app.js (+ a lazily loaded chunk for the terminal),
// app.css, xterm.css and index.html. Everything the page needs ships in the package; nothing is
// fetched at run time. Prints each file's size.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'web', 'main.tsx') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
copyFileSync(
  join(dirname(require.resolve('@xterm/xterm/package.json')), 'css', 'xterm.css'),
  join(out, 'xterm.css'),
);
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
copyFileSync(join(root, 'web', 'app.css'), join(out, 'app.css'));
for (const f of readdirSync(out))
  console.log(`dist/web/${f} ${(statSync(join(out, f)).size / 1024).toFixed(1)} KiB`);
