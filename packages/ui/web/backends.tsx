/** One chip per backend: version and how the page follows it, or why it is unavailable. */
import type { BackendView } from '../src/protocol.js';
import { duration } from './format.js';

export function Backends({ backends }: { backends: BackendView[] }) {
  const sorted = [...backends].sort(
    (a, b) => Number(b.available) - Number(a.available) || a.name.localeCompare(b.name),
  );
  return (
    <section class="backends" data-testid="backends">
      {sorted.map((b) => (
        <div
          class={`chip ${b.available ? (b.error ? 'warn' : 'ok') : 'off'}`}
          data-backend={b.name}
          title={b.hint ?? ''}
        >
          <strong>{b.name}</strong>
          {b.available ? (
            <span class="meta">
              {b.version ? `v${b.version} · ` : ''}
              {b.live === 'events' ? 'live: events' : `live: poll ${duration(b.pollMs ?? 0)}`}
              {b.error ? ` · ${b.error}` : ''}
            </span>
          ) : (
            <span class="meta">
              unavailable: {b.reason ?? 'unknown reason'}
              {b.hint ? <em> — {b.hint}</em> : null}
            </span>
          )}
        </div>
      ))}
    </section>
  );
}
