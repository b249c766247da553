/**
 * The lifecycle state machine: one pure table, consulted by the Instance runtime and rendered
 * into the docs. Nothing here does I/O.
 */

export const STATES = [
  'initial',
  'creating',
  'stopped',
  'starting',
  'running',
  'suspending',
  'suspended',
  'resuming',
  'stopping',
  'deleting',
  'deleted',
  'broken',
] as const;
export type StateName = (typeof STATES)[number];

export const ACTIONS = [
  'create',
  'start',
  'stop',
  'suspend',
  'resume',
  'delete',
  'refresh',
] as const;
export type Action = (typeof ACTIONS)[number];

/** An instance's state; `reason` says why (always set for `broken`). */
export interface InstanceState {
  name: StateName;
  reason?: string;
}

/** Where a failed action leaves the instance when reality cannot be observed afterwards. */
export type FailureTarget = 'previous' | 'broken';

export type Transition =
  | { legal: false }
  /** The target already holds: nothing is done (ensure-style idempotence). */
  | { legal: true; noop: true; success: StateName }
  | {
      legal: true;
      noop: false;
      /** The state shown while the action runs. */
      via: StateName;
      /** The state on success; `observed` for refresh (whatever reality is). */
      success: StateName | 'observed';
      /**
       * The state on failure when the real state cannot be observed. When core can observe
       * reality after a failure (doInspect answers), the observed state wins.
       */
      failure: FailureTarget;
    };

const illegal: Transition = { legal: false };
const noop = (success: StateName): Transition => ({ legal: true, noop: true, success });
const go = (via: StateName, success: StateName, failure: FailureTarget): Transition => ({
  legal: true,
  noop: false,
  via,
  success,
  failure,
});
const refresh = {
  legal: true,
  noop: false,
  via: 'initial',
  success: 'observed',
  failure: 'previous',
} as const;

type Row = Record<Action, Transition>;
const row = (cells: Partial<Row>): Row => ({
  create: illegal,
  start: illegal,
  stop: illegal,
  suspend: illegal,
  resume: illegal,
  delete: illegal,
  refresh,
  ...cells,
});

/**
 * The table. Transitional states (creating, starting, …) accept no action but refresh: the
 * runtime serialises operations, so in one process a second operation waits and then sees the
 * settled state; another process sees a transitional state only through a lock it must wait for.
 */
export const TRANSITIONS: Readonly<Record<StateName, Row>> = {
  initial: row({ create: go('creating', 'stopped', 'previous'), delete: noop('initial') }),
  creating: row({}),
  stopped: row({
    start: go('starting', 'running', 'previous'),
    stop: noop('stopped'),
    delete: go('deleting', 'deleted', 'broken'),
  }),
  starting: row({}),
  running: row({
    start: noop('running'),
    stop: go('stopping', 'stopped', 'broken'),
    suspend: go('suspending', 'suspended', 'previous'),
    resume: noop('running'),
    delete: go('deleting', 'deleted', 'broken'),
  }),
  suspending: row({}),
  suspended: row({
    start: go('resuming', 'running', 'previous'),
    stop: go('stopping', 'stopped', 'broken'),
    suspend: noop('suspended'),
    resume: go('resuming', 'running', 'previous'),
    delete: go('deleting', 'deleted', 'broken'),
  }),
  resuming: row({}),
  stopping: row({}),
  deleting: row({}),
  deleted: row({ create: go('creating', 'stopped', 'previous'), delete: noop('deleted') }),
  broken: row({
    stop: go('stopping', 'stopped', 'broken'),
    delete: go('deleting', 'deleted', 'broken'),
  }),
};

/** Looks up (state, action). Pure. */
export function transition(state: StateName, action: Action): Transition {
  if (action === 'refresh') return { ...refresh, via: state };
  return TRANSITIONS[state][action];
}

export function isLegal(state: StateName, action: Action): boolean {
  return transition(state, action).legal;
}

/** Actions legal in `state`, in table order. */
export function legalActions(state: StateName): Action[] {
  return ACTIONS.filter((a) => isLegal(state, a));
}

export function isStable(state: StateName): boolean {
  return ['initial', 'stopped', 'running', 'suspended', 'deleted', 'broken'].includes(state);
}

/** Renders the table as Markdown (the docs' table is generated from this; a test keeps it current). */
export function renderStateTable(): string {
  const header = `| state \\ action | ${ACTIONS.join(' | ')} |`;
  const sep = `|${' --- |'.repeat(ACTIONS.length + 1)}`;
  const lines = STATES.map((s) => {
    const cells = ACTIONS.map((a) => {
      const t = transition(s, a);
      if (!t.legal) return '✗';
      if (t.noop) return `no-op (${t.success})`;
      if (a === 'refresh') return 'observed';
      return `${t.via} → ${t.success} (fail: ${t.failure === 'previous' ? s : 'broken'})`;
    });
    return `| **${s}** | ${cells.join(' | ')} |`;
  });
  return [header, sep, ...lines].join('\n');
}
