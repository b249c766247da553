/** The lifecycle buttons core allows in the current state; delete asks first. */
import { useState } from 'preact/hooks';
import type { HubMessage, InstanceAction, InstanceView } from '../src/protocol.js';
import { type ApiError, instancePath, postJson, RequestFailed } from './api.js';
import { ErrorBox } from './error-box.js';
import { duration } from './format.js';

const LABELS: Record<InstanceAction, string> = {
  start: 'Start',
  stop: 'Stop',
  suspend: 'Suspend',
  resume: 'Resume',
  delete: 'Delete…',
  snapshot: 'Snapshot',
  refresh: 'Refresh',
};

interface Props {
  instance: InstanceView;
  lastOp: Extract<HubMessage, { type: 'op' }> | undefined;
}

export function ActionBar({ instance, lastOp }: Props) {
  const [pending, setPending] = useState<string | undefined>();
  const [failure, setFailure] = useState<ApiError | undefined>();
  const [confirming, setConfirming] = useState(false);
  const run = async (action: InstanceAction, body: Record<string, unknown> = {}) => {
    setPending(action);
    setFailure(undefined);
    try {
      await postJson(instancePath(instance.id, action), body);
    } catch (error) {
      setFailure(
        error instanceof RequestFailed ? error.error : { code: 'NETWORK', message: String(error) },
      );
    } finally {
      setPending(undefined);
    }
  };
  const busy = pending !== undefined || instance.busy !== undefined;
  const offered = instance.actions;
  return (
    <div class="actions" data-testid="actions">
      {offered.map((a) =>
        a === 'delete' ? (
          <button
            type="button"
            class="danger"
            data-action="delete"
            disabled={busy}
            onClick={() => setConfirming(true)}
          >
            {LABELS[a]}
          </button>
        ) : (
          <>
            <button type="button" data-action={a} disabled={busy} onClick={() => void run(a)}>
              {pending === a ? `${LABELS[a]}…` : LABELS[a]}
            </button>
            {a === 'stop' && (
              <button
                type="button"
                data-action="force-stop"
                disabled={busy}
                onClick={() => void run('stop', { force: true })}
              >
                Force stop
              </button>
            )}
          </>
        ),
      )}
      {instance.busy ? (
        <span class="busy">
          {instance.busy.action}: {instance.busy.step ?? 'working…'}
        </span>
      ) : null}
      {lastOp && !busy ? (
        <span class={lastOp.ok ? 'done' : 'failed'} data-testid="last-op">
          {lastOp.action} {lastOp.ok ? 'done' : 'failed'}
          {lastOp.durationMs !== undefined ? ` in ${duration(lastOp.durationMs)}` : ''}
        </span>
      ) : null}
      <ErrorBox error={failure} testId="action-error" />
      {confirming && (
        <div class="confirm" role="dialog" data-testid="confirm-delete">
          <p>
            Delete <strong>{instance.id}</strong>? Its disk and state are removed; this cannot be
            undone.
          </p>
          <button
            type="button"
            class="danger"
            data-action="confirm-delete"
            onClick={() => {
              setConfirming(false);
              void run('delete');
            }}
          >
            Delete
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}
