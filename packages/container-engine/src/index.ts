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
  EventFilter,
  ExecSpec,
  Transport,
} from './engine.js';
export { KILL_SCRIPT, killExecInside } from './exec-kill.js';
export * from './labels.js';
export {
  type ContainerOptions,
  type ContainerOptionsInput,
  containerOptionsSchema,
  DEFAULT_COMMAND,
} from './options.js';
export { parseImage, parseInspect, parseJsonOutput, parseSummary } from './parse.js';
export {
  type ContainerSettings,
  type ContainerSettingsInput,
  containerSettingsSchema,
} from './settings.js';
