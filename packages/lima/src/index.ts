/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export { createArgs, shellArgs, startArgs, templateLocator } from './argv.js';
export { createLima, type LimaBackend, lima } from './backend.js';
export * from './colima/index.js';
export { LimaDriver } from './driver.js';
export {
  type LimaOptions,
  type LimaOptionsInput,
  type LimaSettings,
  limaOptionsSchema,
  limaSettingsSchema,
} from './options.js';
export {
  compareVersions,
  fatalMessage,
  type LimaInstance,
  type LimaSnapshot,
  type LogLine,
  parseLimaList,
  parseLimaVersion,
  parseLogLines,
  parseSnapshotList,
} from './parse.js';
