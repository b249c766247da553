/**
 * The published types work for a user: every published package with types, packed and installed
 * by npm into a TypeScript project outside the monorepo (npm installs their peer @types/node),
 * compiles a consumer file with zero errors under strict settings that also check our .d.ts.
 * Installed without peers, the same project fails: the peer is what makes the types complete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('installed with npm (peers included) they compile with zero errors: tsc --init defaults, and with our .d.ts checked too', async () => {
    const p = project();
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
