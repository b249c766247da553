import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(root, 'dist', 'index.js'));

describe('the published package', () => {
  it.skipIf(!built)(
    'holds only what users need: dist code, types and source maps, README, package.json',
    async () => {
      const { stdout } = await promisify(execFile)(
        'npm',
        ['pack', '--dry-run', '--json', '--ignore-scripts'],
        {
          cwd: root,
        },
      );
      const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      expect(files).toContain('dist/testing/index.js');
      expect(files).toContain('dist/spec/index.js');
      // Source maps (with their sources inlined) so failures of the suite point at TypeScript.
      // The suite (conformance/harness.ts) is bundled into the testing entry.
      expect(files).toContain('dist/testing/index.js.map');
      expect(files).toContain('README.md');
      const unexpected = files.filter(
        (f) =>
          !(
            f === 'README.md' ||
            f === 'package.json' ||
            /^dist\/[\w/-]+\.(js|d\.ts|js\.map)$/.test(f)
          ),
      );
      expect(unexpected).toEqual([]);
      expect(
        // Test files and fixtures stay out (the testing kit's own modules are published).
        files.filter((f) => /\.test\.|\.test-d\.|__fixtures__|__examples__/.test(f)),
      ).toEqual([]);
    },
    60_000,
  );
});
