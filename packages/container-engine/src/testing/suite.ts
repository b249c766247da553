/**
 * The container-engine test suite, run for real by @vms/docker and @vms/podman, once per
 * transport (API and CLI), so both paths pass the same tests. vitest stays external: the suite
 * takes the test functions it uses (like core's conformance suite).
 *
 * Every container is named `<prefix>-<suite>-<n>`, labelled `dev.vms.test-suite=<suite>` (afterAll
 * sweeps containers and images with that label, also when tests fail) and with the test run's
 * label `dev.vms.test-run=<run id>` (swept at the run's end however it ends).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInstance, type Instance, VmsError, waitFor } from '@vms/core';
import { testRunLabels } from '@vms/core/testing';
import type { ContainerBackend } from '../backend.js';
import type { Transport } from '../engine.js';
import { LABEL_CREATED, LABEL_MANAGED, LABEL_OWNER, LABEL_SNAPSHOT_OF } from '../labels.js';
import type { ContainerOptionsInput } from '../options.js';

type Fn = () => unknown | Promise<unknown>;
export interface SuiteTestApi {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: Fn, timeout?: number) => void;
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic by nature
  expect: (value: unknown, message?: string) => any;
  beforeAll: (fn: Fn, timeout?: number) => void;
  afterAll: (fn: Fn, timeout?: number) => void;
}

export interface ContainerSuiteOptions {
  /** Names the describe block, e.g. "docker (api)". */
  name: string;
  backend: () => ContainerBackend;
  /** The transport the backend must end up using. */
  transport: Transport;
  /** Image present in the engine (the CI test image). */
  image: string;
  /** A backend whose engine does not answer (for the "engine not running" test). */
  deadBackend: () => ContainerBackend;
  /** Removes a container behind the library's back (`docker rm -f`). */
  removeBehindBack: (name: string) => Promise<void>;
  /** Short container-name prefix (default "vmst"). */
  prefix?: string;
}

/** This process's children that stream engine events (`docker events …`), by /proc. */
function eventsChildren(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (ppid === process.pid && argv.includes('events')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Labels one suite's (one test file's) containers, for its own afterAll sweep. */
export const TEST_SUITE_LABEL = 'dev.vms.test-suite';

/** Awaits `p` and expects it to reject with a VmsError of `code`; returns that error. */
export async function expectVmsError(
  expect: SuiteTestApi['expect'],
  p: Promise<unknown>,
  code: string,
): Promise<VmsError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(VmsError.isInstance(error), `expected a VmsError ${code}, got ${String(error)}`).toBe(
    true,
  );
  expect((error as VmsError).code, (error as VmsError).message).toBe(code);
  return error as VmsError;
}

export function runContainerSuite(t: SuiteTestApi, o: ContainerSuiteOptions): void {
  const { describe, it, expect, beforeAll, afterAll } = t;
  const run = randomBytes(4).toString('hex');
  let n = 0;
  let backend: ContainerBackend;
  const instances: Instance[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vms-ce-test-'));

  const make = (options: Partial<ContainerOptionsInput> = {}, name?: string): Instance => {
    n += 1;
    const instance = createInstance(backend, name ?? `${o.prefix ?? 'vmst'}-${run}-${n}`, {
      image: o.image,
      ...options,
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run, ...options.labels },
    });
    instances.push(instance);
    return instance;
  };

  const expectCode = (p: Promise<unknown>, code: string) => expectVmsError(expect, p, code);

  /** Waits (on the log stream, not by sleeping) until the container has printed `text`. */
  const waitForLog = async (vm: Instance, text: string): Promise<void> => {
    const controller = new AbortController();
    let seen = '';
    await vm
      .logs({
        follow: true,
        signal: controller.signal,
        timeoutMs: 60_000,
        onData: (chunk) => {
          seen += chunk.toString();
          if (seen.includes(text)) controller.abort();
        },
      })
      .catch((e: unknown) => {
        if (!VmsError.hasCode(e, 'ABORTED')) throw e;
      });
    expect(seen).toContain(text);
  };

  describe(`${o.name}: containers on a real engine`, () => {
    beforeAll(async () => {
      backend = o.backend();
      const detected = await backend.detect();
      expect(detected.available, `engine unavailable: ${detected.reason}`).toBe(true);
    });

    afterAll(async () => {
      const sweep = { signal: AbortSignal.timeout(120_000), deadline: Date.now() + 120_000 };
      const engine = await backend.engine();
      const left = await engine.list({ [TEST_SUITE_LABEL]: run }, sweep);
      await Promise.all(left.map((c) => engine.remove(c.name, sweep)));
      const images = await engine.images({ [TEST_SUITE_LABEL]: run }, sweep);
      for (const image of images) await engine.removeImage(image.id, sweep).catch(() => false);
      await backend.close();
      rmSync(tmp, { recursive: true, force: true });
    }, 180_000);

    it(`talks to the engine over the ${o.transport} path`, async () => {
      expect((await backend.engine()).transport).toBe(o.transport);
    });

    it('walks create → start → suspend → resume → stop → delete, labelled as ours', async () => {
      const vm = make({
        labels: { team: 'infra' },
        ports: [{ guest: 8080 }],
        cpus: 0.5,
        memoryMiB: 64,
      });
      await vm.create();
      expect(vm.state.name).toBe('stopped');
      let seen = await vm.inspect();
      expect(seen.state.name).toBe('stopped');
      expect(seen.properties.labels?.[LABEL_MANAGED]).toBe('true');
      expect(seen.properties.labels?.[LABEL_OWNER]).toMatch(/@/);
      expect(Number.isNaN(Date.parse(seen.properties.labels?.[LABEL_CREATED] ?? ''))).toBe(false);
      expect(seen.properties.labels?.team).toBe('infra');
      expect(seen.properties.cpus).toBe(0.5);
      expect(seen.properties.memoryMiB).toBe(64);

      await vm.start();
      seen = await vm.inspect();
      expect(seen.state.name).toBe('running');
      const port = seen.properties.ports?.find((p) => p.guestPort === 8080);
      expect(port?.hostIp).toBe('127.0.0.1');
      expect(port?.hostPort).toBeGreaterThan(0);

      await vm.suspend();
      expect((await vm.inspect()).state.name).toBe('suspended');
      await vm.resume();
      expect((await vm.inspect()).state.name).toBe('running');

      const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
      const mine = listed.find((i) => i.name === vm.name);
      expect(mine?.managed).toBe(true);
      expect(mine?.state).toBe('running');

      // A container someone else made (no dev.vms.managed label) shows only with `all`.
      const engine = await backend.engine();
      const ctx = { signal: AbortSignal.timeout(60_000), deadline: Date.now() + 60_000 };
      const foreign = `${o.prefix ?? 'vmst'}-${run}-foreign`;
      await engine.create(
        {
          name: foreign,
          image: o.image,
          command: ['true'],
          env: {},
          labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
          ports: [],
          mounts: [],
          init: false,
          extraArgs: [],
        },
        ctx,
      );
      expect((await backend.list({ signal: ctx.signal })).map((i) => i.name)).not.toContain(
        foreign,
      );
      const everything = await backend.list({ signal: ctx.signal, all: true });
      expect(everything.find((i) => i.name === foreign)).toMatchObject({
        managed: false,
        state: 'stopped',
      });
      await engine.remove(foreign, ctx);

      const stopped = await vm.stop({ graceMs: 20_000 });
      expect(stopped.how).toBe('graceful');
      expect(stopped.guestExit?.exitCode).toBe(0);
      expect((await vm.inspect()).state.name).toBe('stopped');

      expect((await vm.delete()).existed).toBe(true);
      expect((await vm.refresh()).state.name).toBe('deleted');
    });

    it('notices a container removed behind its back while running (engine events → drift)', async () => {
      const vm = make();
      await vm.create();
      await vm.start();
      const drift = new Promise<string>((resolve) => {
        vm.on('drift', (e) => resolve(e.observed.name));
      });
      await o.removeBehindBack(vm.name);
      expect(await drift).toBe('deleted');
      expect(vm.state.name).toBe('deleted');
    });

    it('follows several running containers at once, each hearing only its own changes', async () => {
      const [a, b] = [make(), make()];
      for (const vm of [a, b]) {
        await vm.create();
        await vm.start();
      }
      const drifts: string[] = [];
      const drifted = (vm: Instance) =>
        new Promise<void>((resolve) => {
          vm.on('drift', (e) => {
            drifts.push(`${vm.name}:${e.observed.name}`);
            resolve();
          });
        });
      const bDrift = drifted(b);
      const aDrift = drifted(a);
      await o.removeBehindBack(b.name);
      await bDrift;
      expect(a.state.name).toBe('running');
      await o.removeBehindBack(a.name);
      await aDrift;
      expect(drifts).toEqual([`${b.name}:deleted`, `${a.name}:deleted`]);
    });

    if (o.transport === 'cli') {
      it('follows running containers through one events process, ended when none runs', async () => {
        // A backend of its own: no container of another test keeps its event stream open.
        const own = o.backend();
        const mk = (i: number) =>
          createInstance(own, `${o.prefix ?? 'vmst'}-${run}-ev${i}`, {
            image: o.image,
            labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: run },
          });
        const [a, b] = [mk(1), mk(2)];
        const streams = async (count: number) => {
          await waitFor(async () => eventsChildren().length === count, {
            description: `${count} events processes`,
            timeoutMs: 30_000,
          });
          return eventsChildren().length;
        };
        try {
          for (const vm of [a, b]) {
            await vm.create();
            await vm.start();
          }
          expect(await streams(1)).toBe(1);
          await a.stop();
          expect(await streams(1)).toBe(1);
          await b.stop();
          expect(await streams(0)).toBe(0);
        } finally {
          for (const vm of [a, b]) await vm.delete();
          await own.close();
        }
      });
    }

    it('watchInstances names a container @vms manages when any process changes it', async () => {
      const vm = make();
      await vm.create();
      await vm.start();
      let seen = 0;
      let wake: (() => void) | undefined;
      const unwatch = backend.watchInstances?.({
        onChange: (name) => {
          if (name !== vm.name) return;
          seen++;
          wake?.();
        },
      });
      expect(unwatch, 'container backends implement watchInstances').toBeTypeOf('function');
      const nextEvent = () =>
        new Promise<void>((resolve) => {
          wake = resolve;
        });
      try {
        // The stream opens asynchronously: change the container until the first event arrives.
        for (let i = 0; i < 20 && seen === 0; i++) {
          const event = nextEvent();
          await vm.suspend();
          await vm.resume();
          await Promise.race([event, new Promise((r) => setTimeout(r, 500))]);
        }
        expect(seen, 'no event for pause/unpause').toBeGreaterThan(0);
        // Now open: a removal by another process is named too.
        const removed = nextEvent();
        await o.removeBehindBack(vm.name);
        await removed;
      } finally {
        unwatch?.();
      }
    });

    it('reports an IP from NetworkSettings.Networks on a bridge network', async () => {
      const vm = make();
      await vm.create();
      await vm.start();
      const { properties } = await vm.inspect();
      expect(properties.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      await vm.delete();
    });

    it('stops a paused container (unpausing first) and reports how it ended', async () => {
      const vm = make();
      await vm.create();
      await vm.start();
      await vm.suspend();
      const r = await vm.stop({ graceMs: 20_000 });
      expect(r.how).toBe('graceful');
      expect(r.guestExit?.exitCode).toBe(0);
      await vm.delete();
    });

    it('keeps a sub-second grace in ms (0.9 s is not rounded down to an immediate kill)', async () => {
      // Exits 7 on SIGTERM: graceful only if the 900 ms grace is honoured (a whole-second
      // truncation would make it `stop -t 0`, an immediate SIGKILL → 137).
      const vm = make({
        command: [
          'sh',
          '-c',
          'trap "exit 7" TERM; echo trapped; while :; do sleep 86400 & wait $!; done',
        ],
      });
      await vm.create();
      await vm.start();
      await waitForLog(vm, 'trapped');
      const r = await vm.stop({ graceMs: 900 });
      expect(r.how).toBe('graceful');
      expect(r.guestExit?.exitCode).toBe(7);
      await vm.delete();
    });

    it('forces a container that ignores SIGTERM and reports SIGKILL', async () => {
      const vm = make({
        command: ['sh', '-c', 'trap "" TERM; echo trapped; while :; do sleep 1; done'],
      });
      await vm.create();
      await vm.start();
      await waitForLog(vm, 'trapped');
      const r = await vm.stop({ graceMs: 500 });
      expect(r.how).toBe('forced');
      expect(r.guestExit?.exitCode).toBe(137);
      await vm.delete();
    });

    describe('exec', () => {
      let vm: Instance;
      beforeAll(async () => {
        vm = make();
        await vm.create();
        await vm.start();
      });

      it('streams stdout and stderr and passes the exit code through', async () => {
        const chunks: string[] = [];
        const r = await vm.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'], {
          onStdout: (c) => chunks.push(c.toString()),
        });
        expect(r.exitCode).toBe(3);
        expect(r.stdout).toBe('out\n');
        expect(r.stderr).toBe('err\n');
        expect(chunks.join('')).toBe('out\n');
      });

      it('passes stdin, env, cwd and user', async () => {
        const r = await vm.exec(['sh', '-c', 'cat; echo "$GREETING"; pwd; id -un'], {
          stdin: 'from stdin\n',
          env: { GREETING: 'hello there' },
          cwd: '/tmp',
          user: 'nobody',
        });
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toBe('from stdin\nhello there\n/tmp\nnobody\n');
      });

      it('keeps argv intact (no shell re-splitting)', async () => {
        const r = await vm.exec(['printf', '%s|', 'a b', "it's", '$HOME']);
        expect(r.stdout).toBe("a b|it's|$HOME|");
      });

      it('ends the process inside the container at its deadline', async () => {
        const error = await expectCode(vm.exec(['sleep', '1000'], { timeoutMs: 3_000 }), 'TIMEOUT');
        expect(error).toBeDefined();
        const ps = await vm.exec(['ps', '-o', 'pid,args']);
        expect(ps.stdout).not.toMatch(/sleep 1000/);
      });

      it('ends the process inside the container on abort', async () => {
        const controller = new AbortController();
        const p = vm.exec(['sh', '-c', 'echo started; exec sleep 1001'], {
          signal: controller.signal,
          onStdout: () => controller.abort(),
        });
        await expectCode(p, 'ABORTED');
        const ps = await vm.exec(['ps', '-o', 'pid,args']);
        expect(ps.stdout).not.toMatch(/sleep 1001/);
        // Still usable afterwards.
        expect((await vm.exec(['true'])).exitCode).toBe(0);
      });

      it('copies files in and out', async () => {
        const src = path.join(tmp, 'in.txt');
        writeFileSync(src, 'copied content\n');
        await vm.copyIn(src, '/tmp/in.txt');
        expect((await vm.exec(['cat', '/tmp/in.txt'])).stdout).toBe('copied content\n');
        const dst = path.join(tmp, 'out.txt');
        await vm.copyOut('/tmp/in.txt', dst);
        expect(readFileSync(dst, 'utf8')).toBe('copied content\n');
      });

      afterAll(async () => {
        await vm.delete();
      });
    });

    it('returns logs and follows them until aborted', async () => {
      const vm = make({
        command: [
          'sh',
          '-c',
          'echo first; echo oops >&2; trap "exit 0" TERM; while :; do echo tick; sleep 0.2; done',
        ],
      });
      await vm.create();
      await vm.start();
      const seen: { stream: string; text: string }[] = [];
      const controller = new AbortController();
      await vm
        .logs({
          follow: true,
          signal: controller.signal,
          onData: (chunk, stream) => {
            seen.push({ stream, text: chunk.toString() });
            if (seen.filter((s) => s.text.includes('tick')).length >= 2) controller.abort();
          },
        })
        .catch((e: unknown) => {
          if (!VmsError.hasCode(e, 'ABORTED')) throw e;
        });
      const all = seen.map((s) => s.text).join('');
      expect(all).toMatch(/first/);
      expect(seen.some((s) => s.stream === 'stderr' && s.text.includes('oops'))).toBe(true);
      await vm.delete();
    });

    it('snapshots: create, list, restore (recreates from the image), delete', async () => {
      const vm = make();
      await vm.create();
      await vm.start();
      await vm.exec(['sh', '-c', 'echo v1 > /marker']);
      await vm.snapshots.create('s1');
      await vm.exec(['sh', '-c', 'echo v2 > /marker']);
      const list = await vm.snapshots.list();
      expect(list.map((s) => s.name)).toEqual(['s1']);
      await vm.snapshots.restore('s1');
      expect((await vm.inspect()).state.name).toBe('running');
      expect((await vm.exec(['cat', '/marker'])).stdout).toBe('v1\n');
      await vm.snapshots.delete('s1');
      expect(await vm.snapshots.list()).toEqual([]);
      await expectCode(vm.snapshots.delete('s1'), 'NOT_FOUND');
      await expectCode((async () => vm.snapshots.create('bad name!'))(), 'INVALID_OPTIONS');
      await vm.delete();
      // The image of s1, untagged while the restored container used it, went with the container.
      const engine = await backend.engine();
      const ctx = { signal: AbortSignal.timeout(30_000), deadline: Date.now() + 30_000 };
      expect(await engine.images({ [LABEL_SNAPSHOT_OF]: vm.name }, ctx)).toEqual([]);
    });

    describe('faults give typed errors and leave nothing behind', () => {
      it('rejects an invalid name', async () => {
        const error = await expectCode(
          (async () => {
            const vm = make({}, 'not a/valid name');
            await vm.create();
          })(),
          'INVALID_OPTIONS',
        );
        expect(error.message).toMatch(/name/);
      });

      it("an image not in the engine with pull: 'never' is NOT_FOUND with a hint, and no container is left", async () => {
        const vm = make({ image: `vms-test/does-not-exist:${run}`, pull: 'never' });
        const error = await expectCode(vm.create(), 'NOT_FOUND');
        expect(error.hint).toMatch(/pull/);
        const engine = await backend.engine();
        const ctx = { signal: AbortSignal.timeout(30_000), deadline: Date.now() + 30_000 };
        expect(await engine.inspect(vm.name, ctx)).toBeUndefined();
      });

      it('a name in use is ALREADY_EXISTS', async () => {
        const a = make();
        await a.create();
        const b = make({}, a.name);
        const error = await expectCode(b.create(), 'ALREADY_EXISTS');
        expect(error.hint).toBeTruthy();
        expect((await a.inspect()).state.name).toBe('stopped');
        await a.delete();
      });

      it('a container removed behind our back refreshes to absent (deleted)', async () => {
        const vm = make();
        await vm.create();
        await vm.start();
        await o.removeBehindBack(vm.name);
        const r = await vm.refresh();
        expect(r.state.name).toBe('deleted');
        expect((await vm.delete()).existed).toBe(false);
      });

      it('a host port already taken gives a clear error', async () => {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const taken = (server.address() as net.AddressInfo).port;
        try {
          const vm = make({ ports: [{ guest: 80, host: taken }] });
          await vm.create();
          const error = await expectCode(vm.start(), 'OPERATION_FAILED');
          expect(error.message).toMatch(/in use|allocated/);
          expect(error.hint).toMatch(/port/);
          expect(['stopped', 'broken']).toContain((await vm.refresh()).state.name);
          await vm.delete();
        } finally {
          server.close();
        }
      });

      it('an engine that is not running is BACKEND_UNAVAILABLE with a hint', async () => {
        const dead = o.deadBackend();
        const detected = await dead.detect();
        expect(detected.available).toBe(false);
        expect(detected.hint).toBeTruthy();
        const vm = createInstance(dead, `${o.prefix ?? 'vmst'}-${run}-dead`, { image: o.image });
        const error = await expectCode(vm.create(), 'BACKEND_UNAVAILABLE');
        expect(error.hint).toBeTruthy();
        await dead.close();
      });
    });
  });
}
