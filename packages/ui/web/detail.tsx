/** The selected instance: actions, then tabs for its timeline, logs, terminal and snapshots. */
import type { Capabilities } from '@vms/core';
import { useState } from 'preact/hooks';
import type { HubMessage, InstanceView, TransitionEntry } from '../src/protocol.js';
import { ActionBar } from './action-bar.js';
import { duration, stateClass } from './format.js';
import { LogView } from './log-view.js';
import { Properties } from './properties.js';
import { SnapshotList } from './snapshot-list.js';
import { TerminalView } from './terminal-view.js';
import { Timeline } from './timeline.js';

type Tab = 'overview' | 'logs' | 'terminal' | 'snapshots';

interface Props {
  instance: InstanceView;
  history: TransitionEntry[];
  lastOp: Extract<HubMessage, { type: 'op' }> | undefined;
  now: number;
  capabilities: Capabilities | undefined;
}

export function Detail({ instance, history, lastOp, now, capabilities }: Props) {
  const [tab, setTab] = useState<Tab>('overview');
  const tabs: Array<[Tab, string, boolean]> = [
    ['overview', 'Overview', true],
    ['logs', 'Logs', capabilities?.logs === true],
    ['terminal', 'Terminal', capabilities?.exec === true],
    ['snapshots', 'Snapshots', capabilities?.snapshot === true],
  ];
  return (
    <div class="detail" data-testid="detail" data-id={instance.id}>
      <div class="detail-head">
        <h2>{instance.id}</h2>
        <span class={`badge ${stateClass(instance.state)}`} data-testid="detail-state">
          {instance.state}
        </span>
        <span class="muted">for {duration(Math.max(0, now - Date.parse(instance.since)))}</span>
      </div>
      {instance.reason ? <p class="reason">{instance.reason}</p> : null}
      <ActionBar instance={instance} lastOp={lastOp} />
      <nav class="tabs">
        {tabs
          .filter(([, , shown]) => shown)
          .map(([key, label]) => (
            <button
              type="button"
              class={tab === key ? 'tab active' : 'tab'}
              data-tab={key}
              onClick={() => setTab(key)}
            >
              {label}
            </button>
          ))}
      </nav>
      {tab === 'overview' && (
        <div class="overview">
          <Timeline history={history} now={now} />
          <Properties properties={instance.properties} />
        </div>
      )}
      {tab === 'logs' && <LogView id={instance.id} />}
      {tab === 'terminal' && (
        <TerminalView id={instance.id} running={instance.state === 'running'} />
      )}
      {tab === 'snapshots' && <SnapshotList id={instance.id} />}
    </div>
  );
}
