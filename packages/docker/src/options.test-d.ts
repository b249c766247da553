/**
 * Types are the first test a user runs: docker's options are checked at compile time (`pnpm
 * typecheck` fails when a line marked @ts-expect-error compiles).
 */
import { type BackendV1, createInstance, type Instance, openInstance } from '@vms/core';
import { expectTypeOf } from 'vitest';
import { type ContainerOptions, docker } from './index.js';

// @ts-expect-error: a misspelt option does not compile
createInstance(docker, 'web', { imagee: 'nginx:alpine' });
// @ts-expect-error: image is required
createInstance(docker, 'web', {});
// @ts-expect-error: and so are options at all
createInstance(docker, 'web');
// @ts-expect-error: a wrong type does not compile either
createInstance(docker, 'web', { image: 'nginx', ports: [{ guest: '80' }] });
// @ts-expect-error: nor a misspelt key in a nested object
createInstance(docker, 'web', { image: 'nginx', ports: [{ guets: 80 }] });

const web = createInstance(docker, 'web', { image: 'nginx:alpine', ports: [{ guest: 80 }] });
// The handle's options are what the driver got: defaults filled in.
expectTypeOf(web).toEqualTypeOf<Instance<ContainerOptions>>();
expectTypeOf(web.options.ports[0]?.hostIp).toEqualTypeOf<string | undefined>();

// Attached instances may have unknown options.
expectTypeOf(openInstance(docker, 'web')).resolves.toEqualTypeOf<
  Instance<ContainerOptions | undefined>
>();

// Dynamic callers hold the backend erased: input is `unknown`, validated at run time.
const erased: BackendV1 = docker;
createInstance(erased, 'web', JSON.parse('{"image":"nginx"}'));
