/**
 * The images a README names (`alpine:3.20`, `docker.io/library/alpine:3.20`, a private
 * `registry.example:5000/team/app:1.4`), served by a real local registry so the block pulls them
 * as written with only the registry host substituted (`127.0.0.1:PORT/alpine:3.20`). No public
 * registry is reachable here: each one is the local test image (busybox), committed with the test
 * run's and the file's labels, pushed, and removed from the engine so that `create` must pull.
 *
 * Containers made from these images inherit the labels (an engine merges image labels into the
 * container's), so what a README block creates is found by the file's sweep and the run's,
 * although the block's code names no label. The pulled images carry them too (the run's sweep
 * removes images by label).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  registrySkipReason,
  startTestRegistry,
  TEST_IMAGE,
  TEST_SUITE_LABEL,
  type TestRegistry,
  testEngine,
} from '@vms/container-engine/testing';
import { testRunLabels } from '@vms/core/testing';

export type EngineName = 'docker' | 'podman';

export interface ReadmeImages {
  readonly engine: EngineName;
  /** The file's `dev.vms.test-suite` value (its afterAll sweep). */
  readonly suite: string;
  readonly registry: TestRegistry;
  /** The README's reference → the one to use: its registry host replaced by the local one. */
  ref(readme: string): string;
  /**
   * Environment the engine's client needs: podman's registries.conf trusting the plain-HTTP
   * registry; with credentials, a docker config / podman auth file holding them.
   */
  readonly env: Record<string, string>;
  /** Removes the file's containers and the seeded images, stops the registry. */
  close(): Promise<void>;
}

/** `ENGINE inspect --format FORMAT NAME` of a container, or undefined when there is none. */
export function inspectContainer(
  engine: EngineName,
  name: string,
  format = '{{.Id}}',
): string | undefined {
  try {
    return execFileSync(engine, ['container', 'inspect', '--format', format, name], {
      stdio: 'pipe',
      timeout: 60_000,
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Why README images cannot be served here (no engine, no test image, no registry tool). */
export function readmeImagesSkipReason(engine: EngineName): string | undefined {
  return testEngine(engine).unavailableReason() ?? registrySkipReason();
}

/** `alpine:3.20` → `HOST/alpine:3.20`; `docker.io/library/x:1` → `HOST/library/x:1`. */
export function withRegistryHost(ref: string, host: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  return `${host}/${hasHost ? ref.slice(slash + 1) : ref}`;
}

export async function serveReadmeImages(
  engine: EngineName,
  readmeRefs: string[],
  options: {
    credentials?: { username: string; password: string };
    /** A layer of its own of this many random bytes (default none: the test image's layer). */
    layerBytes?: number;
  } = {},
): Promise<ReadmeImages> {
  const suite = `docs-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'docs-images-'));
  const registry = await startTestRegistry({
    parentDir: dir,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const cli = (...args: string[]) =>
    execFileSync(engine, args, { stdio: 'pipe', timeout: 180_000 }).toString('utf8').trim();
  const env: Record<string, string> = {};
  if (engine === 'podman') {
    const conf = join(dir, 'registries.conf');
    writeFileSync(conf, `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`);
    env.CONTAINERS_REGISTRIES_CONF = conf;
  }
  const auth: string[] = [];
  if (options.credentials) {
    const { username, password } = options.credentials;
    const entry = {
      auths: {
        [registry.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') },
      },
    };
    const config = join(dir, 'auth');
    mkdirSync(config);
    writeFileSync(join(config, 'config.json'), JSON.stringify(entry), { mode: 0o600 });
    if (engine === 'docker') {
      env.DOCKER_CONFIG = config;
      auth.push('--config', config);
    } else {
      env.REGISTRY_AUTH_FILE = join(config, 'config.json');
    }
  }
  const labels = { ...testRunLabels(), [TEST_SUITE_LABEL]: suite };
  const seeded = new Map<string, string>();
  for (const readme of readmeRefs) {
    const ref = withRegistryHost(readme, registry.host);
    const container = cli(
      'create',
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      TEST_IMAGE,
      ...(options.layerBytes
        ? ['sh', '-c', `head -c ${options.layerBytes} /dev/urandom > /layer`]
        : ['true']),
    );
    if (options.layerBytes) cli('start', '--attach', container);
    cli(
      'commit',
      ...Object.entries(labels).flatMap(([k, v]) => ['--change', `LABEL ${k}=${v}`]),
      container,
      ref,
    );
    cli('rm', '--force', container);
    if (engine === 'docker') {
      execFileSync('docker', [...auth, 'push', ref], { stdio: 'pipe', timeout: 180_000 });
    } else {
      cli(
        'push',
        '--tls-verify=false',
        ...(env.REGISTRY_AUTH_FILE ? ['--authfile', env.REGISTRY_AUTH_FILE] : []),
        ref,
      );
    }
    cli('rmi', '--force', ref);
    seeded.set(readme, ref);
  }
  return {
    engine,
    suite,
    registry,
    env,
    ref(readme) {
      const ref = seeded.get(readme);
      if (!ref)
        throw new Error(`${readme} was not seeded (seeded: ${[...seeded.keys()].join(', ')})`);
      return ref;
    },
    async close() {
      await testEngine(engine).sweepTestSuite(suite);
      const images = cli('images', '-q', '--filter', `label=${TEST_SUITE_LABEL}=${suite}`)
        .split('\n')
        .filter(Boolean);
      if (images.length) cli('rmi', '--force', ...new Set(images));
      await registry.stop();
    },
  };
}
