import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tour } from './kit-tour.js';

const root = mkdtempSync(join(tmpdir(), 'vms-kit-tour-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the guide's tour of the kit", () => {
  it('runs a fake tool through the runner, detects it, and keeps state', async () => {
    const r = await tour(root);
    expect(r.detected).toMatchObject({
      available: true,
      version: 'greet 1.2.3',
      toolPath: 'greet',
    });
    expect(r.vms).toEqual([{ name: 'a', state: 'running' }]);
    expect(r.saved).toEqual({ pid: 4242, port: 2222 });
    expect(r.calls).toEqual([['--version'], ['list', '--format', 'json']]);
  });
});
