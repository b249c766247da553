/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export { createTart, type TartBackend, tart } from './backend.js';
export { TartDriver } from './driver.js';
export {
  type TartOptions,
  type TartOptionsInput,
  type TartSettings,
  tartOptionsSchema,
  tartReadinessSchema,
  tartSettingsSchema,
} from './options.js';
export {
  parseTartGet,
  parseTartIp,
  parseTartList,
  parseTartVersion,
  type TartListEntry,
  type TartState,
  type TartVmDetails,
} from './parse.js';
