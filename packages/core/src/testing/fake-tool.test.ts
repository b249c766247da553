import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.js';
import { fakeToolLog, installFakeTool } from './fake-tool.js';
import { processesMentioning } from './processes.js';
import { which } from './which.js';

/** A fake tool: records its calls, fails on `faults.fail`, and `serve NAME` leaves a daemon. */
const TOY = `#!/usr/bin/env node
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
const dir = path.join(process.env.TOY_HOME, '_fake');
const argv = process.argv.slice(2);
fs.mkdirSync(dir, { recursive: true });
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ argv }) + '\\n');
let faults = {};
try { faults = JSON.parse(fs.readFileSync(path.join(dir, 'faults.json'), 'utf8')); } catch {}
if (faults.fail) { process.stderr.write('broken\\n'); process.exit(3); }
if (argv[0] === 'serve') {
  const daemon = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', 'toy-daemon', argv[1]], {
    detached: true, stdio: 'ignore', env: { ...process.env, TOY_INSTANCE: argv[1] },
  });
  daemon.unref();
  process.stdout.write(String(daemon.pid));
}
`;

const scripts = fs.mkdtempSync(join(tmpdir(), 'vms-fake-tool-test-'));
const SCRIPT = join(scripts, 'toy.mjs');
fs.writeFileSync(SCRIPT, TOY);
afterAll(() => fs.rmSync(scripts, { recursive: true, force: true }));

const installed: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const tool of installed.splice(0).reverse()) tool.cleanup();
});

function install(options: Parameters<typeof installFakeTool>[0]) {
  const tool = installFakeTool(options);
  installed.push(tool);
  return tool;
}

const toy = (home: string, ...args: string[]) =>
  execFileSync('toy', args, {
    env: { ...process.env, TOY_HOME: home },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('installFakeTool', () => {
  it('puts its commands first on PATH until cleanup, which restores PATH and removes the root', () => {
    const before = process.env.PATH;
    const tool = installFakeTool({ name: 'toy', commands: { toy: SCRIPT, 'toy-too': SCRIPT } });
    expect(process.env.PATH?.split(':')[0]).toBe(tool.bin);
    expect(which('toy')).toBe(join(tool.bin, 'toy'));
    expect(which('toy-too')).toBe(join(tool.bin, 'toy-too'));
    expect(fs.statSync(tool.home).isDirectory()).toBe(true);
    tool.cleanup();
    expect(process.env.PATH).toBe(before);
    expect(fs.existsSync(tool.root)).toBe(false);
  });

  it('lists the processes started from its root as leftovers, but those of kept instances', async () => {
    const tool = install({ name: 'toy', commands: { toy: SCRIPT } });
    const pid = Number(toy(tool.home, 'serve', 'one'));
    expect(tool.leftovers()).toEqual([pid]);
    expect(tool.leftovers(['one'])).toEqual([]);
    expect(tool.leftovers(['two'])).toEqual([pid]);
    tool.cleanup(); // (again after the test: cleanup is idempotent)
    await waitFor(async () => processesMentioning(tool.root).length === 0, {
      description: 'the daemon to be killed',
      timeoutMs: 10_000,
    });
    expect(processesMentioning(tool.root)).toEqual([]);
  });

  it('knows a kept instance by what ownedBy says (an environment entry here)', () => {
    const tool = install({
      name: 'toy',
      commands: { toy: SCRIPT },
      ownedBy: (name) => ({ env: [`TOY_INSTANCE=${name}`] }),
    });
    const pid = Number(toy(tool.home, 'serve', 'one'));
    expect(tool.leftovers(['one'])).toEqual([]);
    expect(tool.leftovers(['on'])).toEqual([pid]);
  });

  it('refuses a command that is not a plain name or a script path that is not absolute', () => {
    expect(() => installFakeTool({ name: 'toy', commands: { 'a/b': SCRIPT } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => installFakeTool({ name: 'toy', commands: { toy: 'toy.mjs' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'commands.toy' }),
    );
    expect(() => installFakeTool({ name: 'toy', commands: {} })).toThrow(
      expect.objectContaining({ field: 'commands' }),
    );
  });
});

describe('fakeToolLog', () => {
  it("reads the calls the fake recorded and writes the faults it reads, in the fake's log dir", () => {
    const tool = install({ name: 'toy', commands: { toy: SCRIPT } });
    const log = fakeToolLog<{ fail?: boolean }>(join(tool.home, '_fake'));
    expect(log.calls()).toEqual([]);
    toy(tool.home, 'a', 'b c');
    expect(log.calls()).toEqual([['a', 'b c']]);
    log.setFaults({ fail: true });
    expect(() => toy(tool.home, 'x')).toThrow(expect.objectContaining({ status: 3 }));
    log.clearFaults();
    expect(fs.existsSync(join(log.dir, 'faults.json'))).toBe(false);
    toy(tool.home, 'y');
    expect(log.calls()).toEqual([['a', 'b c'], ['x'], ['y']]);
    log.clearCalls();
    expect(log.calls()).toEqual([]);
  });
});
