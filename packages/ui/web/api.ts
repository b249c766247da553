/** The page's side of the API: fetch helpers and the live store fed by /api/events. */
import type {
  BackendView,
  HubMessage,
  InstanceView,
  LatencyRow,
  TransitionEntry,
} from '../src/protocol.js';

export interface ApiError {
  code: string;
  message: string;
  hint?: string;
  issues?: Array<{ path: string; message: string }>;
}

export class RequestFailed extends Error {
  readonly error: ApiError;
  constructor(error: ApiError) {
    super(error.message);
    this.error = error;
  }
}

async function parse<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: ApiError } & T;
  if (!res.ok)
    throw new RequestFailed(body.error ?? { code: String(res.status), message: res.statusText });
  return body;
}

export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { credentials: 'same-origin' }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return parse<T>(
    await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

export const instancePath = (id: string, rest: string) =>
  `/api/instances/${encodeURIComponent(id)}/${rest}`;

export interface Store {
  connected: boolean;
  serverOffsetMs: number;
  backends: Record<string, BackendView>;
  instances: Record<string, InstanceView>;
  history: Record<string, TransitionEntry[]>;
  latency: LatencyRow[];
  /** The last op outcome per instance, for the page's notices. */
  lastOp: Record<string, Extract<HubMessage, { type: 'op' }>>;
}

export const emptyStore: Store = {
  connected: false,
  serverOffsetMs: 0,
  backends: {},
  instances: {},
  history: {},
  latency: [],
  lastOp: {},
};

export type StoreAction = { type: 'connected'; connected: boolean } | HubMessage;

export function reduce(store: Store, m: StoreAction): Store {
  switch (m.type) {
    case 'connected':
      return { ...store, connected: m.connected };
    case 'snapshot':
      return {
        ...store,
        connected: true,
        serverOffsetMs: Date.parse(m.serverTime) - Date.now(),
        backends: Object.fromEntries(m.backends.map((b) => [b.name, b])),
        instances: Object.fromEntries(m.instances.map((i) => [i.id, i])),
        history: m.history,
        latency: m.latency,
      };
    case 'backend':
      return { ...store, backends: { ...store.backends, [m.backend.name]: m.backend } };
    case 'instance':
      return { ...store, instances: { ...store.instances, [m.instance.id]: m.instance } };
    case 'forget': {
      const { [m.id]: _i, ...instances } = store.instances;
      const { [m.id]: _h, ...history } = store.history;
      return { ...store, instances, history };
    }
    case 'transition':
      return {
        ...store,
        history: { ...store.history, [m.id]: [...(store.history[m.id] ?? []), m.entry] },
      };
    case 'latency':
      return { ...store, latency: m.latency };
    case 'op':
      return m.phase === 'end' ? { ...store, lastOp: { ...store.lastOp, [m.id]: m } } : store;
  }
}

/** Subscribes to /api/events; EventSource reconnects by itself and the server resends a snapshot. */
export function connect(dispatch: (a: StoreAction) => void): () => void {
  const source = new EventSource('/api/events');
  source.addEventListener('message', (e) =>
    dispatch(JSON.parse((e as MessageEvent<string>).data) as HubMessage),
  );
  source.addEventListener('error', () => dispatch({ type: 'connected', connected: false }));
  return () => source.close();
}
