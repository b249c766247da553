import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from './which.js';

const dir = mkdtempSync(join(tmpdir(), 'vms-which-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('which', () => {
  it('finds the first executable on the path, passing over files that are not executable', () => {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    mkdirSync(first);
    mkdirSync(second);
    writeFileSync(join(first, 'tool'), '#!/bin/sh\n');
    chmodSync(join(first, 'tool'), 0o644);
    writeFileSync(join(second, 'tool'), '#!/bin/sh\n');
    chmodSync(join(second, 'tool'), 0o755);
    const path = ['', first, second].join(delimiter);
    expect(which('tool', path)).toBe(join(second, 'tool'));
    expect(which('no-such-tool-here', path)).toBeUndefined();
  });

  it('looks on PATH by default', () => {
    expect(which('node')).toMatch(/node$/);
  });
});
