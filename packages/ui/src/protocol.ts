/**
 * What the server sends the page: the JSON of `/api/state` and the messages of the
 * `/api/events` stream. Shared by the server and the page (the page imports these types only).
 */
import type { Capabilities, Properties } from '@vms/core';
import type { LatencyRow } from './latency.js';

export type { LatencyRow };

/** How the page learns of changes another process makes on a backend. */
export type LiveSource = 'events' | 'poll' | 'none';

export interface BackendView {
  name: string;
  available: boolean;
  version?: string;
  reason?: string;
  hint?: string;
  capabilities?: Capabilities;
  /** `events`: the tool's event stream; `poll`: list() every `pollMs` (the tool has no stream). */
  live: LiveSource;
  pollMs?: number;
  /** The last list() error, when the backend stopped answering. */
  error?: string;
}

export interface InstanceView {
  /** `backend:name`. */
  id: string;
  backend: string;
  name: string;
  /** A core state name: stopped, starting, running, …, deleted, broken. */
  state: string;
  reason?: string;
  managed: boolean;
  properties: Properties;
  /** When the instance entered `state` (ISO time). */
  since: string;
  /** What the page may offer now: core's legal actions in this state, within the backend's capabilities. */
  actions: InstanceAction[];
  /** The action running on it from this dashboard, and its current step. */
  busy?: { action: string; step?: string };
}

export interface TransitionEntry {
  state: string;
  at: string;
  reason?: string;
  action?: string;
  /** `ui`: an action of this dashboard; `observed`: seen in the backend (any process). */
  source: 'ui' | 'observed';
}

export interface Snapshot {
  serverTime: string;
  backends: BackendView[];
  instances: InstanceView[];
  history: Record<string, TransitionEntry[]>;
  latency: LatencyRow[];
}

export type HubMessage =
  | ({ type: 'snapshot' } & Snapshot)
  | { type: 'backend'; backend: BackendView }
  | { type: 'instance'; instance: InstanceView }
  | { type: 'forget'; id: string }
  | { type: 'transition'; id: string; entry: TransitionEntry }
  | { type: 'latency'; latency: LatencyRow[] }
  | {
      type: 'op';
      id: string;
      action: string;
      phase: 'begin' | 'end';
      ok?: boolean;
      durationMs?: number;
      error?: { code: string; message: string; hint?: string };
    };

/** Actions of `POST /api/instances/:id/:action`. */
export const INSTANCE_ACTIONS = [
  'start',
  'stop',
  'suspend',
  'resume',
  'delete',
  'snapshot',
  'refresh',
] as const;
export type InstanceAction = (typeof INSTANCE_ACTIONS)[number];
