/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export {
  type ContainerBackend,
  type ContainerOptions,
  type ContainerOptionsInput,
  containerOptionsSchema,
} from '@vms/container-engine';
export { podmanDialect } from './dialect.js';
export {
  createPodmanMachine,
  MACHINE_CAPABILITIES,
  type MachineOptions,
  machineOptionsSchema,
  type PodmanMachineBackend,
  type PodmanMachineSettings,
  podmanMachine,
  remoteCommand,
  shellQuote,
} from './machine.js';
export { type MachineInfo, parseMachineInspect, parseMachineList } from './machine-parse.js';
export { createPodman, type PodmanSettings, podman } from './podman.js';
