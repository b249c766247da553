/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export {
  compareApiVersions,
  MAX_API_VERSION,
  MIN_API_VERSION,
  negotiateApiVersion,
} from './api-version.js';
export {
  CONTAINER_CAPABILITIES,
  type ContainerBackend,
  createContainerBackend,
} from './backend.js';
export { CONTAINER_STATES, type ContainerDialect, mapState } from './dialect.js';
export { ContainerDriver, observe } from './driver.js';
export { contextHost, parseHost, type ResolvedEndpoint, resolveEndpoint } from './endpoint.js';
export type {
  ContainerInfo,
  CreateSpec,
  Engine,
  EngineEvent,
  EngineVersion,
  EventFilter,
  ExecSpec,
  PullSpec,
  Transport,
} from './engine.js';
export {
  type EngineHost,
  type EngineSource,
  type EngineSourceInput,
  engineSourceSchema,
} from './engine-source.js';
export { ImageNotFoundError, RegistryRefusedError } from './errors.js';
export { KILL_SCRIPT, killExecInside } from './exec-kill.js';
export * from './labels.js';
export {
  type ContainerOptions,
  type ContainerOptionsInput,
  containerOptionsSchema,
  DEFAULT_COMMAND,
} from './options.js';
export {
  parseImage,
  parseInspect,
  parseJsonOutput,
  parseSummary,
  parseVersion,
} from './parse.js';
export { type LayerEvent, PullTracker } from './pull.js';
export {
  checkReference,
  DEFAULT_REGISTRY,
  type ImageReference,
  parseReference,
  registryOf,
} from './reference.js';
export {
  authFiles,
  encodeRegistryAuth,
  type FoundAuth,
  findRegistryAuth,
  type RegistryAuth,
} from './registry-auth.js';
export {
  type ContainerSettings,
  type ContainerSettingsInput,
  containerSettingsSchema,
} from './settings.js';
