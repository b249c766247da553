/**
 * What each entry point exports, by name: adding or removing one is a reviewed change (update the
 * snapshot on purpose). And `@vms/core/spec` loads nothing at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));

describe('entry points', () => {
  it.each([
    ['@vms/core', './index.js'],
    ['@vms/core/spec', './spec/index.js'],
    ['@vms/core/testing', './testing/index.js'],
    ['@vms/core/zod', './zod.js'],
  ])('%s exports a reviewed list of names', async (entry, path) => {
    const names = Object.keys(await import(path)).sort();
    await expect(`${names.join('\n')}\n`).toMatchFileSnapshot(
      `./__snapshots__/exports-${entry.replaceAll('/', '+')}.txt`,
    );
  });

  it('@vms/core/spec has no runtime dependencies: its modules import types only', () => {
    const dir = join(src, 'spec');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      const imports = [...text.matchAll(/^import\s+(?!type\s)[^;]*from\s+'([^']+)'/gm)].map(
        (m) => m[1],
      );
      const external = imports.filter((i) => !i?.startsWith('./'));
      expect(external, `${file} imports at run time`).toEqual([]);
    }
  });
});
