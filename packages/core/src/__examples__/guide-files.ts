/**
 * The README guide's code blocks, each a file of the guide's project (` ```ts file=src/NAME `),
 * extracted by that path. `GUIDE_FILE_NAMES` is the list the guide's tests extract and run:
 * readme.test.ts checks the README holds exactly these (each the file this package compiles and
 * runs), third-party.test.ts writes them into a project outside the repository and runs it; the
 * docs package's coverage test counts a `file=` block as claimed only when its path is listed here.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const README = readFileSync(join(here, '..', '..', 'README.md'), 'utf8');

/** The guide's files, in README order, by their path in the guide's project. */
export const GUIDE_FILE_NAMES = [
  'src/proc-backend.ts',
  'src/proc-world.ts',
  'src/proc-backend.test.ts',
  'src/proc-backend.test-d.ts',
  'src/kit-tour.ts',
] as const;

/** Every `file=` path of the README's fenced blocks, in order (to compare with the list). */
export const README_FILE_BLOCKS = [...README.matchAll(/^```\w* file=(\S+)$/gm)].map(
  (m) => m[1] as string,
);

/** The block ` ```ts file=PATH `; throws when the README has none or several. */
function blockOf(path: string): string {
  const found = [...README.matchAll(/^```ts file=(\S+)\n([\s\S]*?)^```$/gm)].filter(
    (m) => m[1] === path,
  );
  if (found.length !== 1)
    throw new Error(`packages/core/README.md has ${found.length} blocks with file=${path}`);
  return (found[0] as RegExpMatchArray)[2] as string;
}

export const GUIDE_FILES = GUIDE_FILE_NAMES.map((path) => ({
  /** The path in the guide's project (`src/proc-backend.ts`). */
  path,
  /** The file of this directory it is (`proc-backend.ts`). */
  name: basename(path),
  code: blockOf(path),
}));
