/**
 * The built `vms` on a Node outside `engines`: one error line and a hint, exit 4, before any ES
 * module loads. An older Node is stood in for by a preload that sets `process.versions.node`,
 * which is all the check reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_DIR,
  makeProject,
  nodePosingAs,
  type Project,
  runVms,
} from './test-support/project.js';

const ENGINES: string = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8')).engines
  .node;

let project: Project;
beforeAll(() => {
  project = makeProject();
});
afterAll(() => project?.cleanup());

describe('vms on an unsupported Node', () => {
  it.each(['18.20.4', '20.18.1', '16.0.0'])(
    'on Node %s: exit 4, the range and the version in one line, a hint, nothing else',
    async (version) => {
      const r = await runVms(project, ['list'], { env: nodePosingAs(project, version) });
      expect(r.code).toBe(4);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toEqual([
        `error: vms needs Node ${ENGINES}; this is Node ${version} (${process.execPath})`,
        'hint: install Node 24 or 22 LTS (https://nodejs.org), or set VMS_IGNORE_NODE_VERSION=1 to try anyway',
      ]);
    },
  );

  it('the floor itself and newer majors run', async () => {
    const floor = ENGINES.replace(/^>=/, '');
    for (const version of [floor, '22.23.5', '26.12.1']) {
      const r = await runVms(project, ['backends', '--json'], {
        env: nodePosingAs(project, version),
      });
      expect(r.code, `${version}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ command: 'backends', ok: true });
    }
  });

  it('--version answers on any Node; VMS_IGNORE_NODE_VERSION=1 runs the command anyway', async () => {
    const old = nodePosingAs(project, '18.20.4');
    expect(await runVms(project, ['--version'], { env: old })).toMatchObject({ code: 0 });
    const r = await runVms(project, ['backends', '--json'], {
      env: { ...old, VMS_IGNORE_NODE_VERSION: '1' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: 'backends', ok: true });
  });
});
