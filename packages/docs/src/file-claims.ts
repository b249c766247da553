/**
 * Blocks with `file=PATH` (` ```ts file=src/proc-backend.ts `) are the files of a project a
 * README builds: core's author guide. Such a block is claimed when the README's tests extract it
 * by that path; each README's list is the one those tests use (imported from them, not copied).
 */
import { GUIDE_FILE_NAMES } from '../../core/src/__examples__/guide-files.js';

export interface ExtractedFiles {
  /** The `file=` paths the tests extract. */
  files: readonly string[];
  /** Which tests, and what they do with the files. */
  by: string;
}

export const EXTRACTED_FILES: Readonly<Record<string, ExtractedFiles>> = {
  'packages/core/README.md': {
    files: GUIDE_FILE_NAMES,
    by: 'packages/core/src/__examples__: readme.test.ts (each is the file core compiles, runs and type-tests), third-party.test.ts (a project outside the repository from the packed @vms/core)',
  },
};
