export {
  CPUS_FLAG_SINCE,
  colimaDeleteArgs,
  colimaSshArgs,
  colimaStartArgs,
  colimaStatusArgs,
  colimaStopArgs,
  FLOAT_MEMORY_SINCE,
  INCUS_SINCE,
  STATUS_JSON_SINCE,
} from './argv.js';
export { type ColimaBackend, colima, createColima } from './backend.js';
export { ColimaDriver } from './driver.js';
export {
  type ColimaOptions,
  type ColimaOptionsInput,
  type ColimaSettings,
  colimaOptionsSchema,
  colimaSettingsSchema,
} from './options.js';
export {
  type ColimaInstance,
  type ColimaStatus,
  parseColimaList,
  parseColimaStatusJson,
  parseColimaStatusText,
  parseColimaVersion,
} from './parse.js';
export { colimaHomeDir } from './paths.js';
