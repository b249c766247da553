import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTRACTED_FILES } from './file-claims.js';
import { REPO, readmeBlocks, readmeFiles, testFiles } from './readme-blocks.js';

describe('every README code block runs in a test or says why it cannot', () => {
  const files = readmeFiles();
  const blocks = files.flatMap(readmeBlocks);
  const tests = testFiles().map((f) => readFileSync(join(REPO, f), 'utf8'));

  it('finds the READMEs and their blocks', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('packages/core/README.md');
    expect(blocks.length).toBeGreaterThan(20);
  });

  for (const file of files) {
    it(`${file}: each block has an id a test claims, or a not-run reason`, () => {
      const problems = readmeBlocks(file).flatMap((b) => {
        const where = `${b.file}:${b.line}`;
        if (b.notRun !== undefined)
          return b.notRun.length >= 10 ? [] : [`${where}: the not-run comment needs a reason`];
        if (!b.id)
          return [`${where}: no id=… in the info string and no <!-- not-run: reason --> above`];
        if (b.projectFile !== undefined) {
          const extracted = EXTRACTED_FILES[b.file]?.files ?? [];
          return extracted.includes(b.projectFile)
            ? []
            : [
                `${where}: no test extracts file=${b.projectFile} (the files extracted from ${b.file}: ${extracted.join(', ') || 'none'}; see src/file-claims.ts)`,
              ];
        }
        const claimed = tests.some((t) => t.includes(`'${b.id}'`));
        return claimed ? [] : [`${where}: no test claims id=${b.id}`];
      });
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }

  it('every file a test extracts is a file= block of its README (no stale claims)', () => {
    for (const [readme, { files: extracted }] of Object.entries(EXTRACTED_FILES)) {
      expect(files).toContain(readme);
      const inReadme = readmeBlocks(readme).flatMap((b) => (b.projectFile ? [b.projectFile] : []));
      expect(inReadme, readme).toEqual(expect.arrayContaining([...extracted]));
    }
  });

  it('ids are unique across the READMEs (a test claims a block by its id alone)', () => {
    const seen = new Set<string>();
    const twice = blocks
      .filter((b) => b.id)
      .filter((b) => {
        const key = b.id as string;
        const dup = seen.has(key);
        seen.add(key);
        return dup;
      })
      .map((b) => `${b.file}:${b.line} id=${b.id}`);
    expect(twice).toEqual([]);
  });
});
