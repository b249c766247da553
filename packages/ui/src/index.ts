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
