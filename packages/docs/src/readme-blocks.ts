/**
 * The code blocks of the repository's READMEs. A block either runs in a test, claimed by an id in
 * its info string (```ts id=root-intro), or is a file of a project the README builds (core's
 * author guide: ```ts file=src/proc-backend.ts, whose path is its id), or says right above it why
 * it cannot: `<!-- not-run: the reason -->`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

export interface ReadmeBlock {
  /** README path relative to the repository, e.g. packages/core/README.md. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** `id=…` of the info string, or the path of `file=…`. */
  id?: string;
  /** `file=…` of the info string: the block is that file of a project the README builds. */
  projectFile?: string;
  /** The reason of a `<!-- not-run: … -->` comment on the line above the fence. */
  notRun?: string;
  code: string;
}

/** Every README.md of the repository: the root's, each package's, and those under scripts/. */
export function readmeFiles(): string[] {
  const out = ['README.md'];
  for (const top of ['packages', 'scripts']) {
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name === 'README.md') out.push(path);
      }
    };
    if (existsSync(join(REPO, top))) walk(top);
  }
  return out.sort();
}

/** The fenced blocks of one README (``` or ~~~ fences, as CommonMark reads them). */
export function readmeBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s{0,3})(`{3,}|~{3,})(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[2] as string;
    const info = (open[3] as string).trim();
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] as string).trim().startsWith(fence))
      body.push(lines[j++] as string);
    const [lang = '', ...attrs] = info.split(/\s+/);
    const attr = (key: string) =>
      attrs.map((a) => (a.startsWith(`${key}=`) ? a.slice(key.length + 1) : '')).find(Boolean);
    const projectFile = attr('file');
    const id = attr('id') ?? projectFile;
    const above = /^<!--\s*not-run:\s*(.*?)\s*-->$/.exec((lines[i - 1] ?? '').trim());
    blocks.push({
      file,
      line: i + 1,
      lang,
      ...(id ? { id } : {}),
      ...(projectFile ? { projectFile } : {}),
      ...(above ? { notRun: above[1] } : {}),
      code: `${body.join('\n')}\n`,
    });
    i = j;
  }
  return blocks;
}

/** The block `id` of `file`; throws (naming both) when there is none. */
export function readmeBlock(file: string, id: string): ReadmeBlock {
  const block = readmeBlocks(file).find((b) => b.id === id);
  if (!block) throw new Error(`${file} has no code block with id=${id}`);
  return block;
}

/** Test files of the repository (where ids are claimed), relative to it. */
export function testFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.'))
        continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.test\.(ts|mts|mjs)$/.test(entry.name)) out.push(relative(REPO, path));
    }
  };
  walk(join(REPO, 'packages'));
  return out;
}
