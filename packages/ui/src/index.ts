/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export type { LatencyRow } from './latency.js';
export type {
  BackendView,
  HubMessage,
  InstanceAction,
  InstanceView,
  LiveSource,
  Snapshot,
  TransitionEntry,
} from './protocol.js';
export { startUi, type UiOptions, type UiServer, type UnavailableBackend } from './server.js';
