/** The page: backends, instances, the selected instance's details, latency, and the create form. */
import { useEffect, useReducer, useState } from 'preact/hooks';
import { connect, emptyStore, reduce } from './api.js';
import { Backends } from './backends.js';
import { CreateForm } from './create-form.js';
import { Detail } from './detail.js';
import { InstanceTable } from './instance-table.js';
import { LatencyPanel } from './latency-panel.js';
import { useNow } from './now.js';

export function App() {
  const [store, dispatch] = useReducer(reduce, emptyStore);
  const [selected, setSelected] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const now = useNow(store.serverOffsetMs);
  useEffect(() => connect(dispatch), []);
  const instances = Object.values(store.instances).sort((a, b) => a.id.localeCompare(b.id));
  const current = selected ? store.instances[selected] : undefined;
  const available = Object.values(store.backends).filter((b) => b.available);
  return (
    <div class="page">
      <header class="top">
        <h1>
          vms <span class="sub">dashboard</span>
        </h1>
        <span class={`conn ${store.connected ? 'on' : 'off'}`} data-testid="connection">
          {store.connected ? 'live' : 'reconnecting…'}
        </span>
        <span class="grow" />
        <button
          type="button"
          class="primary"
          data-testid="new-instance"
          disabled={available.length === 0}
          onClick={() => setCreating(true)}
        >
          New instance
        </button>
      </header>
      <Backends backends={Object.values(store.backends)} />
      <main class="columns">
        <section class="panel list-panel">
          <h2>
            Instances{' '}
            <span class="count">{instances.filter((i) => i.state !== 'deleted').length}</span>
          </h2>
          <InstanceTable
            instances={instances}
            selected={selected}
            onSelect={setSelected}
            now={now}
          />
        </section>
        <section class="panel detail-panel">
          {current ? (
            <Detail
              key={current.id}
              instance={current}
              history={store.history[current.id] ?? []}
              lastOp={store.lastOp[current.id]}
              now={now}
              capabilities={store.backends[current.backend]?.capabilities}
            />
          ) : (
            <p class="empty">Select an instance to see its timeline, logs and terminal.</p>
          )}
        </section>
      </main>
      <LatencyPanel rows={store.latency} />
      {creating && (
        <CreateForm
          backends={available}
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            setSelected(id);
          }}
        />
      )}
    </div>
  );
}
