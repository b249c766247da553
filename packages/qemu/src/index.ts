/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export { type AccelChoice, resolveAccel } from './accel.js';
export { type HostForward, type LaunchPlan, optValue, qemuArgv } from './argv.js';
export {
  createQemu,
  type QemuBackend,
  type QemuSettings,
  qemu,
  qemuSettingsSchema,
} from './backend.js';
export { parseHostKeys } from './console.js';
export { QemuDriver } from './driver.js';
export { type HostKeySource, hostKeySchema, knownHostsText, parseKeyscan } from './host-keys.js';
export { type QemuOptions, type QemuOptionsInput, qemuOptionsSchema } from './options.js';
export { QmpClient, QmpCommandError, type QmpEvent } from './qmp.js';
export { shellJoin, shellQuote } from './quote.js';
export { REFRESH_SCRIPT } from './saved-state.js';
export { metaData, userData } from './seed.js';
export { parseSnapshotTable } from './snapshots.js';
export type { QemuTemplates, SaveTemplateOptions, TemplateInfo } from './templates.js';
