/** The README guide's code blocks, by the file each is (`\`\`\`ts file=src/NAME`). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const README = readFileSync(join(here, '..', '..', 'README.md'), 'utf8');

export const GUIDE_FILES = [...README.matchAll(/```ts file=src\/([\w.-]+)\n([\s\S]*?)```/g)].map(
  (m) => ({ name: m[1] as string, code: m[2] as string }),
);
