/**
 * The built `vms` against a third-party backend package (`vms-backend-fake`: core's mock backend
 * with its state in a file) installed into a temporary project: lifecycle, JSON shapes, exit
 * codes, name resolution, interrupts, events, prune and the demo.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '@vms/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normalizeJson, snapshotText } from './test-support/normalize.js';
import {
  ANSI_PATTERN,
  addFakeBackend,
  makeProject,
  type Project,
  ptyUnavailableReason,
  runVms,
  runVmsInPty,
  until,
} from './test-support/project.js';

let project: Project;
const names: string[] = [];
let counter = 0;
/** A fresh instance name per test; every one is deleted after the test. */
const fresh = (): string => {
  const name = `inst-${++counter}`;
  names.push(name);
  return name;
};
const vms = (args: string[], settings?: Parameters<typeof runVms>[2]) =>
  runVms(project, args, settings);

beforeAll(() => {
  project = makeProject({ fixtures: ['vms-backend-fake'] });
});
afterEach(async () => {
  for (const name of names.splice(0)) await vms(['delete', `fake:${name}`]);
});
afterAll(() => project?.cleanup());

describe('lifecycle against a third-party backend', () => {
  it('creates with common flags, validates them with the backend schema, and reports JSON', async () => {
    const name = fresh();
    const r = await vms([
      'create',
      `fake:${name}`,
      '--image',
      'busybox',
      '-p',
      '8080:80',
      '--memory',
      '512M',
      '--cpus',
      '2',
      '-e',
      'A=1',
      '--label',
      'team=infra',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expect(snapshotText(normalizeJson(r.stdout))).toMatchFileSnapshot(
      '__snapshots__/create.json.snap',
    );
    const inspect = await vms(['inspect', `fake:${name}`, '--json']);
    expect(inspect.code).toBe(0);
    await expect(snapshotText(normalizeJson(inspect.stdout))).toMatchFileSnapshot(
      '__snapshots__/inspect.json.snap',
    );
  });

  it('walks start → suspend → resume → stop → delete, by name alone', async () => {
    const name = fresh();
    expect((await vms(['create', `fake:${name}`])).code).toBe(0);
    const start = await vms(['start', name]);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(new RegExp(`started fake:${name}: running`));
    expect((await vms(['suspend', name])).code).toBe(0);
    const resume = await vms(['resume', name, '--json']);
    expect(JSON.parse(resume.stdout)).toMatchObject({
      command: 'resume',
      ok: true,
      state: 'running',
    });
    const stop = await vms(['stop', name, '--json']);
    await expect(snapshotText(normalizeJson(stop.stdout))).toMatchFileSnapshot(
      '__snapshots__/stop.json.snap',
    );
    const del = await vms(['delete', name, '--json']);
    expect(JSON.parse(del.stdout)).toMatchObject({ ok: true, state: 'deleted', existed: true });
    const again = await vms(['delete', `fake:${name}`, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, existed: false });
  });

  it('create --start leaves it running; list shows it, in JSON too', async () => {
    const name = fresh();
    expect((await vms(['create', `fake:${name}`, '--start'])).code).toBe(0);
    const list = await vms(['list', '--json']);
    expect(list.code).toBe(0);
    const parsed = normalizeJson(list.stdout) as { instances: Array<{ id: string }> };
    parsed.instances = parsed.instances.filter((i) => i.id === `fake:${name}`);
    await expect(snapshotText(parsed)).toMatchFileSnapshot('__snapshots__/list.json.snap');
    const human = await vms(['list']);
    expect(human.stdout).toMatch(new RegExp(`^fake:${name}\\s+running`, 'm'));
  });

  it('exec passes the exit code through, streams output and forwards piped stdin', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`, '--start']);
    const echo = await vms(['exec', `fake:${name}`, '--', 'echo', 'hello', 'world']);
    expect(echo).toMatchObject({ code: 0, stdout: 'hello world\n' });
    expect((await vms(['exec', name, 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await vms(['exec', name, '--', 'false'])).code).toBe(1);
    const cat = await vms(['exec', name, '--', 'cat'], { input: 'from stdin\n' });
    expect(cat).toMatchObject({ code: 0, stdout: 'from stdin\n' });
    const noStdin = await vms(['exec', '--no-stdin', name, '--', 'cat'], { input: 'ignored' });
    expect(noStdin.stdout).toBe('');
    // vms's own flags end at NAME: these belong to the command.
    expect(await vms(['exec', name, 'echo', '--json', '--debug'])).toMatchObject({
      code: 0,
      stdout: '--json --debug\n',
      stderr: '',
    });
    const env = await vms(['exec', '-e', 'GREETING=hi', name, '--', 'env']);
    expect(env.stdout).toContain('GREETING=hi');
    const json = await vms(['exec', '--json', name, '--', 'sh', '-c', 'echo out; exit 3']);
    expect(json.code).toBe(3);
    await expect(snapshotText(normalizeJson(json.stdout))).toMatchFileSnapshot(
      '__snapshots__/exec.json.snap',
    );
  });

  it('logs prints what the instance wrote', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`, '--start']);
    const logs = await vms(['logs', name]);
    expect(logs).toMatchObject({ code: 0, stdout: `${name} booted\n` });
  });
});

describe('exit codes and errors', () => {
  it('3 for a missing instance, with a hint, and a JSON error envelope with --json', async () => {
    const r = await vms(['start', 'fake:nope']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'error: fake:nope does not exist\nhint: create it: vms create fake:nope\n',
    );
    const byName = await vms(['stop', 'nope']);
    expect(byName.code).toBe(3);
    expect(byName.stderr).toMatch(/^error: no instance named nope in fake\n/);
    const json = await vms(['exec', 'fake:nope', '--json', '--', 'true']);
    expect(json.code).toBe(3);
    await expect(snapshotText(normalizeJson(json.stdout))).toMatchFileSnapshot(
      '__snapshots__/error.json.snap',
    );
  });

  it('6 for an illegal transition, 8 for create of an existing instance', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`]);
    const suspend = await vms(['suspend', `fake:${name}`]);
    expect(suspend.code).toBe(6);
    expect(suspend.stderr).toMatch(/^error: action suspend not allowed in state stopped/);
    const again = await vms(['create', `fake:${name}`]);
    expect(again.code).toBe(8);
    expect(again.stderr).toMatch(/hint: delete it first/);
  });

  it('2 for usage: unknown flags, bad values, unknown backend options', async () => {
    const unknown = await vms(['list', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: Unknown option '--bogus'/);
    expect((await vms(['frobnicate'])).code).toBe(2);
    const memory = await vms(['create', 'fake:x', '--memory', 'lots']);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toMatch(/invalid --memory "lots"/);
    const opt = await vms(['create', 'fake:x', '--opt', 'imagee=busybox']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(
      /^error: invalid option imagee: unknown option \(did you mean image\?\)\nhint: fake options: cpus, memoryMiB, .*image/,
    );
    const port = await vms(['create', 'fake:x', '-p', '99999:80']);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/error: invalid option ports/);
    const name = await vms(['create', 'fake:-bad']);
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/not a valid instance name/);
    // The name is the positional argument, not an --opt.
    expect(name.stderr).toMatch(/\nhint: the instance name is the argument BACKEND:NAME/);
    expect(name.stderr).not.toMatch(/--opt/);
    const timeout = await vms(['start', 'fake:x', '--timeout', 'soon']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/invalid --timeout/);
    expect((await vms(['exec', 'fake:x'])).code).toBe(2);
    const shell = await vms(['shell', 'fake:x']);
    expect(shell.code).toBe(2);
    expect(shell.stderr).toMatch(/needs a terminal/);
    expect(readFileSync(`${project.stateFile}.fake`, 'utf8')).not.toContain('"x"');
  });

  it('2 with one line and a hint for parser mistakes, hostile keys and bad backend names (issue 14)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['create', 'fake:x', '--memory', '-1'],
        /^error: --memory needs a value, but the next argument "-1" is a flag\nhint: .*--memory=-1\n$/,
      ],
      [
        ['create', 'fake:x', '--image', '--privileged'],
        /^error: --image needs a value.*\nhint: .*--image=--privileged\n$/,
      ],
      [
        ['create', '../x:a'],
        /^error: invalid backend name "\.\.\/x" in "\.\.\/x:a"\nhint: a backend name is letters/,
      ],
      [['list', '--backend', 'a/b'], /^error: invalid backend name "a\/b"\nhint: /],
      [
        ['create', 'fake:x', '--opt', '__proto__.polluted=1'],
        /^error: invalid option __proto__\.polluted: "__proto__" is not allowed/,
      ],
      [
        ['create', 'fake:x', '--opt', 'constructor.prototype.x=1'],
        /^error: invalid option constructor\.prototype\.x: "constructor"/,
      ],
      [
        ['create', 'fake:x', '--opt', 'toString=1'],
        /^error: invalid option toString: unknown option \(did you mean /,
      ],
      [['create', 'fake:x', '-e', '__proto__=yes'], /^error: invalid option env\.__proto__: /],
    ];
    for (const [args, stderr] of cases) {
      const r = await vms(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(stderr);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
      expect(r.stderr).not.toMatch(/npm install/);
    }
    expect(
      existsSync(`${project.stateFile}.fake`)
        ? readFileSync(`${project.stateFile}.fake`, 'utf8')
        : '',
    ).not.toContain('"x"');
  });

  it('5 when an operation passes its deadline; the failed start is rolled back', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`]);
    const r = await vms(['start', `fake:${name}`, '--timeout', '300ms'], {
      env: { FAKE_FAULTS: JSON.stringify([{ verb: 'start', kind: 'hang' }]) },
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: .*\nhint: allow more time with --timeout/);
    const inspect = await vms(['inspect', `fake:${name}`, '--json']);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ state: 'stopped' });
  });

  it('5 for a deadline too short to even take the (free) lock, never 7', async () => {
    const r = await vms(['create', `fake:${fresh()}`, '--timeout', '1ms']);
    expect(r.stderr).toMatch(/^error: timed out after 1ms: create of fake:inst-/);
    expect(r.code).toBe(5);
  });

  it('9 for options the backend cannot honour, naming the capability; nothing is created', async () => {
    const name = fresh();
    const r = await vms(['create', `fake:${name}`, '-p', '8080:80', '-v', '/tmp:/x'], {
      env: { FAKE_CAPABILITIES: JSON.stringify({ portForward: false, mounts: false }) },
    });
    expect(r.stderr).toMatch(
      /^error: backend fake does not support portForward \(option ports\)\nhint: remove ports/,
    );
    expect(r.code).toBe(9);
    expect(readFileSync(project.callsFile, 'utf8')).not.toContain(`doCreate ${name}`);
  });

  it('create --start whose start fails says the instance was created, and leaves it stopped', async () => {
    const name = fresh();
    const r = await vms(['create', `fake:${name}`, '--start'], {
      env: { FAKE_FAULTS: JSON.stringify([{ verb: 'start', kind: 'fail', message: 'no space' }]) },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: fake:${name} was created but did not start: .*no space\nhint: it is stopped: vms start fake:${name}, or vms delete fake:${name}`,
      ),
    );
    const inspect = await vms(['inspect', `fake:${name}`, '--json']);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ state: 'stopped' });
  });

  it('exec on a suspended instance says to resume it', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`, '--start']);
    await vms(['suspend', `fake:${name}`]);
    const r = await vms(['exec', `fake:${name}`, '--', 'true']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(new RegExp(`\nhint: resume it first: vms resume fake:${name}\n$`));
  });

  it('130 when interrupted: SIGINT aborts the running operation', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`]);
    const r = await vms(['start', `fake:${name}`], {
      env: { FAKE_FAULTS: JSON.stringify([{ verb: 'start', kind: 'hang' }]) },
      onSpawn: (child) => {
        void until(
          () => {
            try {
              return readFileSync(project.callsFile, 'utf8').includes(`doStart ${name}`);
            } catch {
              return false;
            }
          },
          30_000,
          'the start to begin',
        ).then(() => child.kill('SIGINT'));
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    const inspect = await vms(['inspect', `fake:${name}`, '--json']);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ state: 'stopped' });
  });

  it('7 when another process holds the instance lock', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`]);
    const lock = await acquireLock(
      join(project.env.VMS_HOME as string, 'locks', 'fake', `${name}.lock`),
    );
    try {
      const r = await vms(['start', `fake:${name}`, '--timeout', '1s']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(
        new RegExp(`^error: instance is locked by another process \\(pid ${process.pid}\\)`),
      );
    } finally {
      await lock.release();
    }
    expect((await vms(['start', `fake:${name}`])).code).toBe(0);
  });

  it('ambiguous names list the candidates and exit 2', async () => {
    const other = makeProject({ fixtures: ['vms-backend-fake'] });
    try {
      addFakeBackend(other, 'vms-backend-fake2', 'fake2');
      writeFileSync(
        join(other.dir, 'vms.config.json'),
        JSON.stringify({ backends: ['vms-backend-fake2'] }),
      );
      expect((await runVms(other, ['create', 'fake:dup'])).code).toBe(0);
      expect((await runVms(other, ['create', 'fake2:dup'])).code).toBe(0);
      const which = await runVms(other, ['create', 'solo']);
      expect(which.code).toBe(2);
      expect(which.stderr).toMatch(/which backend\? available: fake, fake2/);
      const r = await runVms(other, ['start', 'dup']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'error: dup is ambiguous: fake:dup, fake2:dup\nhint: name one: vms start fake:dup\n',
      );
    } finally {
      other.cleanup();
    }
  });

  it.skipIf(ptyUnavailableReason() !== undefined)(
    'on a terminal: a spinner and colour on stderr/stdout; none with --json',
    async () => {
      const name = fresh();
      const r = await runVmsInPty(project, ['create', `fake:${name}`, '--start']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`creating fake:${name}`);
      expect(r.stdout).toContain('\x1b[2K');
      expect(r.stdout).toContain('\x1b[32mrunning\x1b[39m');
      const json = await runVmsInPty(project, ['stop', `fake:${name}`, '--json']);
      expect(json.code).toBe(0);
      expect(json.stdout).not.toMatch(ANSI_PATTERN);
      expect(JSON.parse(json.stdout)).toMatchObject({ state: 'stopped' });
    },
  );

  it('list answers within the per-backend deadline when one backend hangs, reporting it', async () => {
    const other = makeProject({ fixtures: ['vms-backend-fake'] });
    try {
      addFakeBackend(other, 'vms-backend-slow', 'slow');
      writeFileSync(
        join(other.dir, 'vms.config.json'),
        JSON.stringify({ backends: ['vms-backend-slow'] }),
      );
      expect((await runVms(other, ['create', 'fake:quick'])).code).toBe(0);
      const hang = {
        FAKE_FAULTS: JSON.stringify([{ verb: 'list', kind: 'hang', ignoreSignal: true }]),
        FAKE_FAULTS_FOR: 'slow',
      };
      const r = await runVms(other, ['list', '--json', '--backend-timeout', '1s'], { env: hang });
      expect(r.code).toBe(4);
      const result = JSON.parse(r.stdout);
      expect(result.ok).toBe(false);
      expect(result.instances.map((i: { id: string }) => i.id)).toEqual(['fake:quick']);
      expect(result.errors).toEqual([
        { backend: 'slow', code: 'TIMEOUT', message: 'slow list did not answer within 1000 ms' },
      ]);
      const human = await runVms(other, ['list', '--backend-timeout', '1s'], { env: hang });
      expect(human.code).toBe(4);
      expect(human.stderr).toBe('error: slow: slow list did not answer within 1000 ms\n');
      expect(human.stdout).toMatch(/^fake:quick\s+stopped/m);
    } finally {
      other.cleanup();
    }
  });

  it('list: a backend that is down but holds our instances is an error (exit 4), an empty one is not', async () => {
    const other = makeProject({ fixtures: ['vms-backend-fake'] });
    try {
      const empty = await runVms(other, ['list', '--json']);
      expect(empty.code).toBe(0);
      expect(JSON.parse(empty.stdout)).toMatchObject({ ok: true, instances: [], errors: [] });
      expect((await runVms(other, ['create', 'fake:kept'])).code).toBe(0);
      const down = { FAKE_AVAILABLE: '0' };
      const r = await runVms(other, ['list', '--json'], { env: down });
      expect(r.code).toBe(4);
      const result = JSON.parse(r.stdout);
      expect(result).toMatchObject({ ok: false, instances: [] });
      expect(result.errors).toEqual([
        expect.objectContaining({
          backend: 'fake',
          code: 'BACKEND_UNAVAILABLE',
          recorded: ['kept'],
          message: expect.stringMatching(/^cannot list: .*our records hold 1 instance there: kept/),
        }),
      ]);
      const human = await runVms(other, ['list'], { env: down });
      expect(human.code).toBe(4);
      expect(human.stderr).toMatch(/^error: fake: cannot list: .*kept\)$/m);
      expect(human.stderr).toMatch(/no instances \(backends: ; not answering: fake\)/);
      // Back up: listed again, exit 0.
      const up = await runVms(other, ['list', '--json']);
      expect(up.code).toBe(0);
      expect(JSON.parse(up.stdout).instances.map((i: { id: string }) => i.id)).toEqual([
        'fake:kept',
      ]);
    } finally {
      other.cleanup();
    }
  });

  it('piped output holds no ANSI control codes', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`, '--start']);
    for (const args of [
      ['list'],
      ['backends'],
      ['inspect', name],
      ['stop', name],
      ['start', 'fake:nope'],
      ['help'],
    ]) {
      const r = await vms(args);
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(ANSI_PATTERN);
    }
  });
});

describe('events, prune and demo', () => {
  it('events NAME streams NDJSON state changes made by another vms process', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`, '--start']);
    let spawned = false;
    let out = '';
    const watching = vms(['events', `fake:${name}`, '--interval', '100ms', '--until', 'stopped'], {
      onSpawn: (c) => {
        spawned = true;
        c.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
      },
    });
    await until(() => out.includes('"running"'), 30_000, 'the first event');
    expect((await vms(['stop', `fake:${name}`])).code).toBe(0);
    const r = await watching;
    expect(spawned).toBe(true);
    expect(r.code).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((e) => [e.type, e.to?.name ?? e.observed?.name])).toContainEqual([
      'state',
      'stopped',
    ]);
    expect(records[0]).toMatchObject({
      schema: 'vms-cli/v1',
      type: 'state',
      instance: `fake:${name}`,
      to: { name: 'running' },
    });
  });

  it('events without a name reports instances appearing, changing and disappearing', async () => {
    const a = fresh();
    await vms(['create', `fake:${a}`]);
    let out = '';
    let stop: (() => void) | undefined;
    const watching = vms(['events', '--interval', '100ms'], {
      onSpawn: (c) => {
        stop = () => c.kill('SIGINT');
        c.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
      },
    });
    await until(() => out.includes(`"fake:${a}"`), 30_000, 'the existing instance');
    await vms(['start', `fake:${a}`]);
    await until(() => out.includes('"running"'), 30_000, 'the start');
    await vms(['delete', `fake:${a}`]);
    await until(() => out.includes('"deleted"'), 30_000, 'the delete');
    stop?.();
    const r = await watching;
    expect(r.code).toBe(130);
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.instance === `fake:${a}`);
    expect(records.map((e) => [e.from?.name ?? null, e.to.name])).toEqual([
      [null, 'stopped'],
      ['stopped', 'running'],
      ['running', 'deleted'],
    ]);
  });

  it('--debug shows transitions on stderr', async () => {
    const name = fresh();
    const r = await vms(['create', `fake:${name}`, '--debug']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`debug: fake:${name}: initial → creating`);
    expect(r.stderr).toContain(`debug: fake:${name}: creating → stopped`);
  });

  it('prune --dry-run lists managed instances; prune deletes them without asking when stdin is not a terminal', async () => {
    const a = fresh();
    const b = fresh();
    await vms(['create', `fake:${a}`]);
    await vms(['create', `fake:${b}`, '--start']);
    const dry = await vms(['prune', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.stdout);
    expect(planned).toMatchObject({ schema: 'vms-cli/v1', command: 'prune', dryRun: true });
    expect(planned.instances.map((i: { id: string }) => i.id)).toEqual(
      expect.arrayContaining([`fake:${a}`, `fake:${b}`]),
    );
    expect((await vms(['list', '--json'])).stdout).toContain(`fake:${a}`);
    const prune = await vms(['prune']);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain(`deleted fake:${b}`);
    expect(JSON.parse((await vms(['list', '--json'])).stdout).instances).toEqual([]);
  });

  it.skipIf(ptyUnavailableReason() !== undefined)('prune asks first on a terminal', async () => {
    const name = fresh();
    await vms(['create', `fake:${name}`]);
    const no = await runVmsInPty(project, ['prune'], 'n\n');
    expect(no.code).toBe(1);
    expect(no.stdout).toContain(`This deletes 1 instance(s): fake:${name}`);
    expect(no.stdout).toContain('Delete them? [y/N]');
    expect((await vms(['list', '--json'])).stdout).toContain(`fake:${name}`);
    const yes = await runVmsInPty(project, ['prune'], 'y\n');
    expect(yes.code).toBe(0);
    expect(JSON.parse((await vms(['list', '--json'])).stdout).instances).toEqual([]);
  });

  it('demo runs the whole lifecycle and leaves nothing behind', async () => {
    const r = await vms(['demo', '--backend', 'fake', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(
      result.steps.map((s: { step: string; state: string }) => `${s.step}→${s.state}`),
    ).toEqual([
      'create→stopped',
      'start→running',
      'exec→running',
      'suspend→suspended',
      'resume→running',
      'stop→stopped',
      'delete→deleted',
    ]);
    expect(result.steps[2].output).toBe('hello from vms');
    expect(JSON.parse((await vms(['list', '--json'])).stdout).instances).toEqual([]);
  });

  it('demo cleans up when a step fails, and exits with the failure', async () => {
    const r = await vms(['demo', '--backend', 'fake'], {
      env: { FAKE_FAULTS: JSON.stringify([{ verb: 'suspend', kind: 'fail' }]) },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ suspend/);
    expect(r.stdout).toMatch(/✓ delete/);
    expect(r.stderr).toMatch(/^error: injected suspend failure/m);
    expect(JSON.parse((await vms(['list', '--json'])).stdout).instances).toEqual([]);
  });
});
