/**
 * The instance's history as a timeline: one coloured band per state from the first time this
 * dashboard saw it until now, and below it each transition with how long the state lasted.
 */
import type { TransitionEntry } from '../src/protocol.js';
import { clock, duration, stateClass } from './format.js';

const WIDTH = 600;
const HEIGHT = 28;
const MIN_SEGMENT = 3;

export function Timeline({ history, now }: { history: TransitionEntry[]; now: number }) {
  if (history.length === 0) return <p class="empty">No transitions seen yet.</p>;
  const times = history.map((h) => Date.parse(h.at));
  const start = times[0] as number;
  const span = Math.max(1, now - start);
  const segments = history.map((h, i) => {
    const from = times[i] as number;
    const to = i + 1 < times.length ? (times[i + 1] as number) : now;
    return { entry: h, from, to, ms: Math.max(0, to - from) };
  });
  let x = 0;
  const bands = segments.map((s) => {
    const w = Math.max(MIN_SEGMENT, ((s.to - s.from) / span) * WIDTH);
    const band = { ...s, x, w };
    x += w;
    return band;
  });
  const scale = x > WIDTH ? WIDTH / x : 1;
  return (
    <div class="timeline" data-testid="timeline">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="state timeline"
      >
        {bands.map((b) => (
          <g class={stateClass(b.entry.state)}>
            <rect x={b.x * scale} y={0} width={Math.max(1, b.w * scale - 1)} height={HEIGHT} rx={3}>
              <title>{`${b.entry.state} for ${duration(b.ms)} (from ${clock(b.entry.at)})`}</title>
            </rect>
            {b.w * scale > 70 ? (
              <text x={b.x * scale + 6} y={HEIGHT / 2 + 4}>
                {b.entry.state} · {duration(b.ms)}
              </text>
            ) : null}
          </g>
        ))}
      </svg>
      <div class="axis">
        <span>{clock(history[0]?.at ?? '')}</span>
        <span>now</span>
      </div>
      <ol class="transitions" data-testid="transitions">
        {[...segments].reverse().map((s) => (
          <li data-state={s.entry.state}>
            <span class={`dot ${stateClass(s.entry.state)}`} />
            <span class="time">{clock(s.entry.at)}</span>
            <span class="state">{s.entry.state}</span>
            <span class="dur">{duration(s.ms)}</span>
            <span class="muted">
              {s.entry.source === 'ui'
                ? `by this dashboard${s.entry.action ? ` (${s.entry.action})` : ''}`
                : 'observed'}
              {s.entry.reason ? ` — ${s.entry.reason}` : ''}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
