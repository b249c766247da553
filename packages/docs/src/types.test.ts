/**
 * The published types work for a user: every published package with types, packed and installed
 * by npm into a TypeScript project outside the monorepo (npm installs their peer @types/node),
 * compiles a consumer file with zero errors under strict settings that also check our .d.ts.
 * Installed without peers, the same project fails: the peer is what makes the types complete.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks, readmeFiles } from './readme-blocks.js';
import { type ConsumerProject, consumerProject } from './test-support/consumer.js';
import { type PackRegistry, startPackRegistry } from './test-support/npm-registry.js';
import { type PackedPackage, workspacePacks } from './test-support/workspace-packs.js';

/**
 * What a user writes: every published entry point, used (not the `./testing` kits: they are for
 * test suites and need the optional peer vitest).
 */
const CONSUMER = `
import { createInstance, VmsError } from '@vms/core';
import { createContainerBackend } from '@vms/container-engine';
import { docker, createDocker } from '@vms/docker';
import { podman, podmanMachine } from '@vms/podman';
import { qemu } from '@vms/qemu';
import { linuxkit } from '@vms/linuxkit';
import { lima } from '@vms/lima';
import { tart } from '@vms/tart';
import { createPool } from '@vms/pool';
import { createVmsMcpServer } from '@vms/mcp';
import { listSessions } from '@vms/mcp/sessions';
import { startUi } from '@vms/ui';
import { cliMain } from '@vms/cli';

export async function main(signal: AbortSignal): Promise<number> {
  const vm = createInstance(docker, 'box', { image: 'alpine:3.20', env: { TZ: 'UTC' } });
  await vm.create({ signal });
  await vm.start();
  const { exitCode, stdout } = await vm.exec(['uname', '-a']);
  console.log(stdout, vm.state.name);
  await vm.delete();
  const pool = createPool({ backend: podman, namePrefix: 'ci', options: { image: 'alpine:3.20' } });
  await pool.close();
  const server = createVmsMcpServer({ backends: [docker, qemu], policy: { images: ['alpine:*'] } });
  await server.close();
  const ui = await startUi({ backends: [createDocker(), linuxkit, lima, tart, podmanMachine] });
  await ui.close();
  void createContainerBackend;
  void listSessions;
  try {
    return (await cliMain(['list', '--json'], { version: '0.0.0' })) + exitCode;
  } catch (error) {
    if (VmsError.isInstance(error)) console.error(error.code, error.hint);
    throw error;
  }
}
`;

/**
 * What the text around a block gives it (a `pool` made above, the key `pub`, …), as types: every
 * TypeScript block of the READMEs compiles in the user's project, those that cannot run here too.
 */
const CONTEXT: Readonly<Record<string, string>> = {
  'pool-events': "import type { Pool } from '@vms/pool';\ndeclare const pool: Pool;",
  'pool-prune': "import { docker } from '@vms/docker';",
  'linuxkit-templates': "import { createInstance } from '@vms/core';\ndeclare const pub: string;",
  'qemu-testing': 'declare function afterAll(fn: () => unknown): void;',
};
/** Modules a block imports from its own package (cli-backend-package's `./backend.js`). */
const BESIDE: Readonly<Record<string, Record<string, string>>> = {
  'cli-backend-package': {
    'backend.ts':
      "import type { BackendV1 } from '@vms/core';\nexport declare function createFoo(): BackendV1;\n",
  },
};

/** Every TypeScript block of the READMEs, as files of the consumer. */
function blockFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const file of readmeFiles()) {
    for (const block of readmeBlocks(file)) {
      if (block.lang !== 'ts') continue;
      // A file= block is a file of the guide's own project (it imports its siblings and vitest):
      // that project type-checks with the TypeScript it installs, in core.test.ts.
      if (block.projectFile) continue;
      const name = block.id ?? `${file.replace(/\W+/g, '-')}-${block.line}`;
      const context = block.id ? CONTEXT[block.id] : undefined;
      files[`src/blocks/${name}/index.ts`] = `${context ? `${context}\n` : ''}${block.code}`;
      for (const [beside, text] of Object.entries((block.id && BESIDE[block.id]) || {}))
        files[`src/blocks/${name}/${beside}`] = text;
    }
  }
  return files;
}

const run = promisify(execFile);

let packs: PackedPackage[];
let registry: PackRegistry;
let typed: PackedPackage[];
beforeAll(async () => {
  packs = await workspacePacks();
  registry = await startPackRegistry(packs);
  typed = packs.filter((p) => p.manifest.types !== undefined);
});
afterAll(() => registry?.close());

function project(): ConsumerProject {
  const p = consumerProject(registry, Object.fromEntries(typed.map((t) => [t.name, t.version])));
  p.write('src/consumer.ts', CONSUMER);
  return p;
}

describe('the published .d.ts in a TypeScript project outside the monorepo', () => {
  it('every package with types declares @types/node as a peer, in the range of our engines', () => {
    expect(typed.length).toBeGreaterThanOrEqual(10);
    for (const p of typed) {
      const peers = (p.manifest.peerDependencies ?? {}) as Record<string, string>;
      const engines = (p.manifest.engines ?? {}) as Record<string, string>;
      expect({ name: p.name, peer: peers['@types/node'], node: engines.node }).toEqual({
        name: p.name,
        peer: '>=20.19',
        node: '>=20.19',
      });
    }
  });

  it('every typed entry point’s .d.ts loads @types/node itself (whatever the tsconfig "types" say)', async () => {
    const entries = typed.flatMap((p) =>
      Object.entries((p.manifest.exports ?? {}) as Record<string, { types?: string }>)
        .filter(([, target]) => typeof target === 'object' && target.types)
        .map(([subpath, target]) => ({ pack: p, subpath, types: target.types as string })),
    );
    expect(entries.length).toBeGreaterThanOrEqual(15);
    const missing: string[] = [];
    for (const { pack, subpath, types } of entries) {
      const { stdout } = await run('tar', [
        '-xzOf',
        pack.file,
        `package/${types.replace(/^\.\//, '')}`,
      ]);
      if (!stdout.startsWith('/// <reference types="node"'))
        missing.push(`${pack.name}${subpath.slice(1)} (${types})`);
    }
    expect(missing).toEqual([]);
  });

  it('installed with npm (peers included) they compile with zero errors, and so do the READMEs’ TypeScript blocks: tsc --init defaults, and with our .d.ts checked too', async () => {
    const p = project();
    const blocks = blockFiles();
    expect(Object.keys(blocks).length).toBeGreaterThan(15);
    for (const [path, text] of Object.entries(blocks)) p.write(path, text);
    await p.install();
    expect(await p.typecheck()).toEqual([]);
    expect(await p.typecheck('--skipLibCheck', 'false')).toEqual([]);
  }, 600_000);

  it('without the @types/node peer the same project does not compile', async () => {
    const p = project();
    await p.install('--legacy-peer-deps');
    const errors = await p.typecheck('--skipLibCheck', 'false');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/types definitions for node|'node'/);
  }, 600_000);
});
