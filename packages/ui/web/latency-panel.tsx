/** Latency percentiles of each op per backend, from core's op events (and each backend's list). */
import type { LatencyRow } from '../src/protocol.js';
import { duration } from './format.js';

export function LatencyPanel({ rows }: { rows: LatencyRow[] }) {
  return (
    <section class="panel perf" data-testid="latency">
      <h2>Performance</h2>
      {rows.length === 0 ? (
        <p class="empty">No operations timed yet.</p>
      ) : (
        <table class="latency">
          <thead>
            <tr>
              <th>backend</th>
              <th>op</th>
              <th class="num">count</th>
              <th class="num">failed</th>
              <th class="num">p50</th>
              <th class="num">p90</th>
              <th class="num">p99</th>
              <th class="num">max</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-op={`${r.backend}:${r.op}`}>
                <td>{r.backend}</td>
                <td>{r.op}</td>
                <td class="num">{r.count}</td>
                <td class="num">{r.failed || ''}</td>
                <td class="num">{duration(r.p50)}</td>
                <td class="num">{duration(r.p90)}</td>
                <td class="num">{duration(r.p99)}</td>
                <td class="num">{duration(r.max)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
