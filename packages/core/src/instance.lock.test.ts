import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const built = existsSync(join(here, '..', 'dist', 'index.js'));
const home = mkdtempSync(join(tmpdir(), 'vms-race-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('cross-process lock', () => {
  it.skipIf(!built)(
    'two processes racing create on one instance never both run it',
    async () => {
      for (let round = 0; round < 3; round++) {
        const world = join(home, `world-${round}.json`);
        const env = { ...process.env, VMS_HOME: home };
        const startAt = String(Date.now() + 1_500);
        const outcomes = await Promise.all(
          ['a', 'b', 'c'].map((owner) =>
            run(
              process.execPath,
              [join(here, '__fixtures__', 'race-create.mjs'), world, owner, startAt],
              { env },
            ).then((r) => JSON.parse(r.stdout)),
          ),
        );
        const winners = outcomes.filter((o) => o.ok);
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => !o.ok).map((o) => o.code)).toEqual([
          'ALREADY_EXISTS',
          'ALREADY_EXISTS',
        ]);
        const state = JSON.parse(readFileSync(world, 'utf8'));
        expect(state.raced.creators).toEqual([winners[0].owner]);
      }
    },
    60_000,
  );
});
