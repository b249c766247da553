/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export {
  type ContainerBackend,
  type ContainerOptions,
  type ContainerOptionsInput,
  containerOptionsSchema,
} from '@vms/container-engine';
export { dockerDialect } from './dialect.js';
export { createDocker, type DockerSettings, docker } from './docker.js';
