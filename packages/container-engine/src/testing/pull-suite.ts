/**
 * Image pulls against real local registries, for @vms/docker and @vms/podman, once per transport
 * (and, for the CLI, once per CLI version found). `pullFixture` starts two `docker-registry`
 * processes on 127.0.0.1 (one open, one behind basic auth), seeds them from the local test image
 * through the engine's CLI (push, then remove the local copy so create must pull), and writes the
 * docker/podman config a user would have (auths, a credential helper, none, wrong ones).
 * `runPullSuite` then creates containers from those images through the library.
 *
 * Everything is swept in afterAll however the tests end: containers and images by the run's
 * label and names, the registry processes (they also die with the worker), the temp dir.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInstance, type Instance, type ProgressDetail } from '@vms/core';
import { testRunId, testRunLabels } from '@vms/core/testing';
import type { ContainerBackend } from '../backend.js';
import type { Transport } from '../engine.js';
import { freePort, startTestRegistry, type TestRegistry } from './registry.js';
import { expectVmsError, type SuiteTestApi, TEST_SUITE_LABEL } from './suite.js';

type Env = Record<string, string>;

export interface PullFixture {
  readonly run: string;
  /** The local test image the registries were seeded from. */
  readonly image: string;
  /** The open registry and the one behind basic auth. */
  readonly plain: TestRegistry;
  readonly auth: TestRegistry;
  /** Seeded references: the test image, an image with a layer of its own (3 MB), a private one. */
  readonly refs: { small: string; big: string; always: string; private: string };
  /** Image id pushed under each seeded reference (without `sha256:`). */
  readonly ids: Record<string, string>;
  /**
   * Environments a user could have, for the backend's `env` setting (read by its CLI and by the
   * API transport's credential lookup): credentials in the config file, through a credential
   * helper, none, and wrong ones. Each also trusts the plain-HTTP test registries (podman).
   */
  readonly env: { auths: Env; helper: Env; none: Env; wrong: Env };
  /** What the engine must be told to trust the registries (podman: CONTAINERS_REGISTRIES_CONF). */
  readonly trust: Env;
  /** The engine's CLI (the one on PATH), for seeding and observing. */
  cli(...args: string[]): string;
  /** The local image id of `ref` (without `sha256:`), undefined when absent. */
  localId(ref: string): string | undefined;
  /** Removes `ref` from the engine, when there. */
  removeLocal(ref: string): void;
}

const ID = (s: string) => s.trim().replace(/^sha256:/, '');
const must = (v: string | undefined): string => {
  if (v === undefined) throw new Error('pull fixture: a seeded image id is missing');
  return v;
};

/**
 * Registers beforeAll/afterAll that start, seed and sweep the registries; the returned object is
 * usable inside tests (and in beforeAll hooks registered after this call).
 */
export function pullFixture(
  t: Pick<SuiteTestApi, 'beforeAll' | 'afterAll'>,
  o: { engine: 'docker' | 'podman'; image: string },
): PullFixture {
  const run = randomBytes(4).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), `vms-pull-${run}-`));
  const engine = o.engine;
  const cli = (...args: string[]) =>
    execFileSync(engine, args, { encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
  const tryCli = (...args: string[]) => {
    try {
      return cli(...args);
    } catch {
      return undefined;
    }
  };
  const noTls = engine === 'podman' ? ['--tls-verify=false'] : [];
  const state: {
    plain?: TestRegistry;
    auth?: TestRegistry;
    refs?: PullFixture['refs'];
    env?: PullFixture['env'];
    trust?: Env;
  } = {};
  const ids: Record<string, string> = {};
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined)
      throw new Error(`pull fixture: ${what} is not ready (did beforeAll fail?)`);
    return v;
  };

  const fixture: PullFixture = {
    run,
    image: o.image,
    get plain() {
      return ready(state.plain, 'the plain registry');
    },
    get auth() {
      return ready(state.auth, 'the auth registry');
    },
    get refs() {
      return ready(state.refs, 'the seeded images');
    },
    ids,
    get env() {
      return ready(state.env, 'the environments');
    },
    get trust() {
      return ready(state.trust, 'the registries config');
    },
    cli,
    localId(ref) {
      const id = tryCli('image', 'inspect', '--format', '{{.Id}}', ref);
      return id ? ID(id) : undefined;
    },
    removeLocal(ref) {
      if (tryCli('image', 'inspect', '--format', '{{.Id}}', ref) !== undefined)
        cli('image', 'rm', '--force', ref);
    },
  };

  /** Writes a docker config.json / podman auth.json and returns the env that selects it. */
  const config = (name: string, content: object): Env => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    const file = path.join(d, 'config.json');
    writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
    return engine === 'docker' ? { DOCKER_CONFIG: d } : { REGISTRY_AUTH_FILE: file };
  };

  t.beforeAll(async () => {
    const credentials = { username: `u${run}`, password: randomBytes(9).toString('base64url') };
    state.plain = await startTestRegistry({ parentDir: dir });
    state.auth = await startTestRegistry({ parentDir: dir, credentials });
    const plain = state.plain.host;
    const auth = state.auth.host;
    const basic = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString('base64');

    // podman trusts a plain-HTTP registry only when registries.conf says so: a test-scoped one.
    if (engine === 'podman') {
      const conf = path.join(dir, 'registries.conf');
      writeFileSync(
        conf,
        [plain, auth].map((h) => `[[registry]]\nlocation = "${h}"\ninsecure = true\n`).join('\n'),
      );
      state.trust = { CONTAINERS_REGISTRIES_CONF: conf };
    } else {
      state.trust = {}; // docker trusts 127.0.0.0/8 as insecure by default
    }

    // A credential helper as users have them (docker-credential-<name> get, server on stdin).
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const helperName = `vmstest${run}`;
    const helper = path.join(bin, `docker-credential-${helperName}`);
    writeFileSync(
      helper,
      `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\nif [ "$server" = "${auth}" ]; then\n  printf '%s' '${JSON.stringify({ ServerURL: auth, Username: credentials.username, Secret: credentials.password })}'\nelse\n  echo "credentials not found in native keychain"; exit 1\nfi\n`,
    );
    chmodSync(helper, 0o755);
    const withPath = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    state.env = {
      auths: {
        ...config('auths', {
          auths: { [auth]: { auth: basic(credentials.username, credentials.password) } },
        }),
        ...state.trust,
      },
      helper: {
        ...config('helper', { credHelpers: { [auth]: helperName } }),
        ...withPath,
        ...state.trust,
      },
      none: { ...config('none', {}), ...state.trust },
      wrong: {
        ...config('wrong', { auths: { [auth]: { auth: basic(credentials.username, 'wrong') } } }),
        ...state.trust,
      },
    };

    // Seed: the test image as is, and one with a 3 MB layer of its own (so bytes are pulled).
    // The run's id in every name: the run's sweep removes images by name, however it ends.
    const repo = `${testRunId()}/pull-${run}`;
    state.refs = {
      small: `${plain}/${repo}/busybox:1`,
      big: `${plain}/${repo}/big:1`,
      always: `${plain}/${repo}/always:1`,
      private: `${auth}/${repo}/private:1`,
    };
    const seed = `vms-seed-${run}`;
    const labelArgs = Object.entries({ ...testRunLabels(), [TEST_SUITE_LABEL]: run }).flatMap(
      ([k, v]) => ['--label', `${k}=${v}`],
    );
    cli(
      'run',
      '--name',
      seed,
      ...labelArgs,
      o.image,
      'sh',
      '-c',
      'head -c 3000000 /dev/urandom > /blob',
    );
    cli('commit', seed, state.refs.big);
    cli('rm', '--force', seed);
    cli('tag', o.image, state.refs.small);
    cli('tag', state.refs.big, state.refs.always);
    cli('tag', o.image, state.refs.private);
    const authArgs =
      engine === 'docker'
        ? ['--config', ready(state.env.auths.DOCKER_CONFIG, 'docker config')]
        : [];
    for (const ref of [state.refs.small, state.refs.big, state.refs.always]) {
      cli('push', ...noTls, ref);
    }
    if (engine === 'docker') {
      execFileSync('docker', [...authArgs, 'push', state.refs.private], {
        stdio: 'pipe',
        timeout: 120_000,
      });
    } else {
      cli(
        'push',
        ...noTls,
        '--authfile',
        ready(state.env.auths.REGISTRY_AUTH_FILE, 'auth file'),
        state.refs.private,
      );
    }
    for (const ref of Object.values(state.refs)) {
      ids[ref] = ready(fixture.localId(ref), `the id of ${ref}`);
      fixture.removeLocal(ref);
    }
  }, 300_000);

  t.afterAll(async () => {
    for (const ref of Object.values(state.refs ?? {})) {
      try {
        fixture.removeLocal(ref);
      } catch {
        // best effort: the label sweep below catches what is left
      }
    }
    const containers = (tryCli('ps', '-aq', '--filter', `label=${TEST_SUITE_LABEL}=${run}`) ?? '')
      .split('\n')
      .filter(Boolean);
    if (containers.length) tryCli('rm', '--force', ...containers);
    await state.plain?.stop();
    await state.auth?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  return fixture;
}

export interface PullSuiteOptions {
  /** Names the describe block, e.g. "docker (cli 20.10.24)". */
  name: string;
  transport: Transport;
  fixture: PullFixture;
  /** The backend under test, with `env` as its env setting. */
  backend: (env: Env) => ContainerBackend;
  /** Short container-name prefix. */
  prefix: string;
  /**
   * Whether this pull reports byte counts: docker's API does per chunk; podman's compat API only
   * once a second per layer (a loopback pull is over before), the CLIs never when not on a terminal.
   */
  bytes: boolean;
}

export function runPullSuite(t: SuiteTestApi, o: PullSuiteOptions): void {
  const { describe, it, expect, afterAll } = t;
  const f = o.fixture;
  let n = 0;
  const backends: ContainerBackend[] = [];
  const instances: Instance[] = [];
  const make = (env: Env, options: { image: string; pull?: 'missing' | 'always' | 'never' }) => {
    const backend = o.backend(env);
    backends.push(backend);
    n += 1;
    const vm = createInstance(backend, `${o.prefix}-${f.run}-${n}`, {
      ...options,
      labels: { ...testRunLabels(), [TEST_SUITE_LABEL]: f.run },
    });
    instances.push(vm);
    return vm;
  };
  const failure = (p: Promise<unknown>, code: string) => expectVmsError(expect, p, code);
  const exists = (name: string) => f.cli('ps', '-aq', '--filter', `name=^${name}$`).trim() !== '';

  describe(`${o.name}: pulling images from a local registry`, () => {
    afterAll(async () => {
      for (const vm of instances) await vm.delete().catch(() => undefined);
      for (const b of backends) await b.close();
    }, 120_000);

    it("pulls a missing image on create (pull: 'missing' by default), reporting progress", async () => {
      // By id: every tag of it (`always` shares it), so its layers must come from the registry.
      f.removeLocal(must(f.ids[f.refs.big]));
      expect(f.localId(f.refs.big)).toBeUndefined();
      const vm = make(f.env.none, { image: f.refs.big });
      const steps: { step: string; detail?: ProgressDetail }[] = [];
      vm.on('progress', (e) =>
        steps.push({ step: e.step, ...(e.detail ? { detail: e.detail } : {}) }),
      );
      await vm.create();
      expect(f.localId(f.refs.big)).toBe(f.ids[f.refs.big]);
      expect(exists(vm.name)).toBe(true);
      expect(steps[0]?.step).toBe(`pulling ${f.refs.big}`);
      const last = steps.filter((s) => s.step === `pulled ${f.refs.big}`);
      expect(last).toHaveLength(1);
      const parts = last[0]?.detail?.parts;
      expect(parts?.total).toBeGreaterThanOrEqual(1);
      expect(parts?.done).toBe(parts?.total);
      expect(steps.some((s) => s.detail?.item)).toBe(true);
      if (o.bytes) {
        // The 3 MB layer of this image, as the engine counted it.
        expect(last[0]?.detail).toMatchObject({ unit: 'bytes' });
        expect(last[0]?.detail?.total).toBeGreaterThanOrEqual(3_000_000);
        expect(last[0]?.detail?.current).toBe(last[0]?.detail?.total);
      }
      await vm.delete();
    });

    it("uses a local image without contacting any registry (pull: 'missing')", async () => {
      // Tagged for a registry where nothing listens: a pull attempt would fail.
      const ref = `127.0.0.1:${await freePort()}/${testRunId()}/local-${f.run}/busybox:1`;
      f.cli('tag', f.image, ref);
      try {
        const vm = make(f.env.none, { image: ref });
        const steps: string[] = [];
        vm.on('progress', (e) => steps.push(e.step));
        await vm.create();
        expect(exists(vm.name)).toBe(true);
        expect(steps.filter((s) => s.startsWith('pull'))).toEqual([]);
        await vm.delete();
      } finally {
        f.removeLocal(ref);
      }
    });

    it("pull: 'never' with the image absent is NOT_FOUND with a hint, and no container is left", async () => {
      f.removeLocal(f.refs.small);
      const vm = make(f.env.none, { image: f.refs.small, pull: 'never' });
      const error = await failure(vm.create(), 'NOT_FOUND');
      expect(error.hint).toMatch(/pull/);
      expect(f.localId(f.refs.small)).toBeUndefined();
      expect(exists(vm.name)).toBe(false);
    });

    it("pull: 'always' replaces a stale local copy with the registry's", async () => {
      f.removeLocal(f.refs.always);
      f.cli('tag', f.image, f.refs.always);
      expect(f.localId(f.refs.always)).not.toBe(f.ids[f.refs.always]);
      const vm = make(f.env.none, { image: f.refs.always, pull: 'always' });
      await vm.create();
      expect(f.localId(f.refs.always)).toBe(f.ids[f.refs.always]);
      expect(ID(f.cli('container', 'inspect', '--format', '{{.Image}}', vm.name))).toBe(
        f.ids[f.refs.always],
      );
      await vm.delete();
    });

    it('an image the registry does not have is NOT_FOUND naming the reference', async () => {
      const ref = `${f.plain.host}/${testRunId()}/pull-${f.run}/nope:1`;
      const vm = make(f.env.none, { image: ref });
      const error = await failure(vm.create(), 'NOT_FOUND');
      expect(error.message).toContain(ref);
      expect(error.hint).toBeTruthy();
      expect(exists(vm.name)).toBe(false);
    });

    it('a registry that refuses (no or wrong credentials) is OPERATION_FAILED naming the registry', async () => {
      for (const env of [f.env.none, f.env.wrong]) {
        f.removeLocal(f.refs.private);
        const vm = make(env, { image: f.refs.private });
        const error = await failure(vm.create(), 'OPERATION_FAILED');
        expect(error.message).toContain(`registry ${f.auth.host} refused`);
        expect(error.hint).toMatch(/login/);
        expect(exists(vm.name)).toBe(false);
      }
    });

    it("pulls a private image with the user's credentials: config auths, then a credential helper", async () => {
      for (const env of [f.env.auths, f.env.helper]) {
        f.removeLocal(f.refs.private);
        const vm = make(env, { image: f.refs.private });
        await vm.create();
        expect(f.localId(f.refs.private)).toBe(f.ids[f.refs.private]);
        await vm.delete();
      }
    });

    it('a registry nobody answers at is OPERATION_FAILED (not the engine being down)', async () => {
      const vm = make(f.env.none, { image: `127.0.0.1:${await freePort()}/vms/none:1` });
      const error = await failure(vm.create(), 'OPERATION_FAILED');
      expect(error.message).toMatch(/cannot reach registry 127\.0\.0\.1:\d+/);
    });

    it('a bad reference is INVALID_OPTIONS naming image, before the engine is asked', async () => {
      const vm = make(f.env.none, { image: `${f.plain.host}/Vms/Upper:1` });
      const error = await failure(vm.create(), 'INVALID_OPTIONS');
      expect(error).toMatchObject({ field: 'image' });
      expect(error.hint).toBeTruthy();
    });
  });
}
