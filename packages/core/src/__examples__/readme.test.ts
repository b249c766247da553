import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GUIDE_FILE_NAMES, GUIDE_FILES, README_FILE_BLOCKS } from './guide-files.js';

const here = dirname(fileURLToPath(import.meta.url));

describe("the README's guide", () => {
  it('holds the example backend, its observer, its suite, its type test and the kit tour: exactly the files the guide’s tests extract', () => {
    expect(README_FILE_BLOCKS).toEqual([...GUIDE_FILE_NAMES]);
  });

  it.each(GUIDE_FILES.map((f) => [f.name, f.code]))(
    '%s is the code this package compiles and runs (pnpm run gen-docs)',
    (name, code) => {
      expect(code.trim()).toBe(readFileSync(join(here, name), 'utf8').trim());
    },
  );
});
