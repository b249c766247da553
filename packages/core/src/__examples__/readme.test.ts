import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GUIDE_FILES, README } from './guide-files.js';

const here = dirname(fileURLToPath(import.meta.url));
const readme = README;

describe("the README's guide", () => {
  it('holds the example backend, its observer, its suite, its type test and the kit tour', () => {
    expect(GUIDE_FILES.map((f) => f.name)).toEqual([
      'proc-backend.ts',
      'proc-world.ts',
      'proc-backend.test.ts',
      'proc-backend.test-d.ts',
      'kit-tour.ts',
    ]);
  });

  it.each(GUIDE_FILES.map((f) => [f.name, f.code]))(
    '%s is the code this package compiles and runs (pnpm run gen-docs)',
    (name, code) => {
      expect(code.trim()).toBe(readFileSync(join(here, name), 'utf8').trim());
    },
  );

  it('every other code block runs somewhere or says why it cannot', () => {
    const blocks = [...readme.matchAll(/(<!--[^>]*-->\n)?```(\w*)([^\n]*)\n/g)];
    const unexplained = blocks.filter(
      (b, i) => i % 2 === 0 && !b[3]?.includes('file=') && !b[1]?.includes('not-run:'),
    );
    expect(unexplained.map((b) => b[0].trim())).toEqual([]);
  });
});
