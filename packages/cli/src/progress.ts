/**
 * Progress of one operation on stderr, fed by the Instance's `state` and `progress` events.
 *
 * - `bar` (stderr is a terminal, --json off): one redrawn line with a spinner, the current step
 *   and the elapsed time; a step with measured detail (an image pull's bytes and layers) adds a
 *   progress bar.
 * - `lines` (stderr piped, --json off): no control codes and nothing for plain steps; measured
 *   work prints one line when it starts and one with its totals when it ends.
 * - `off` (--json): nothing.
 */
import type { ProgressDetail } from '@vms/core';
import type { Stream } from './output.js';
import { formatDuration } from './units.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 20;

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface Progress {
  /** Sets the headline ("starting docker:web"). */
  label(text: string): void;
  /** Sets the current step ("waiting for SSH"), with its measured detail when there is one. */
  step(text: string, detail?: ProgressDetail): void;
  /** Clears the line and stops. */
  stop(): void;
}

const silent: Progress = { label() {}, step() {}, stop() {} };

/** 1536 → "1.5 kB" (decimal units, as the engines print sizes). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 'B';
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}

/** "[██████░░░░] 1.5/3.0 MB 2/3" for a measured step; "" when there is nothing to measure. */
export function describeDetail(detail: ProgressDetail | undefined, withBar: boolean): string {
  if (!detail) return '';
  const out: string[] = [];
  const { current, total, unit } = detail;
  if (current !== undefined && total !== undefined && total > 0) {
    const fraction = Math.min(1, Math.max(0, current / total));
    const filled = Math.round(fraction * BAR_WIDTH);
    if (withBar) out.push(`[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`);
    out.push(
      unit === 'bytes'
        ? `${formatBytes(current)}/${formatBytes(total)}`
        : `${current}/${total}${unit ? ` ${unit}` : ''}`,
    );
  }
  if (detail.parts) out.push(`${detail.parts.done}/${detail.parts.total} parts`);
  return out.join(' ');
}

export function createProgress(stream: Stream, mode: ProgressMode, label: string): Progress {
  if (mode === 'off') return silent;
  if (mode === 'lines') return lines(stream);
  const started = Date.now();
  let frame = 0;
  let headline = label;
  let current = '';
  let measured = '';
  const render = () => {
    const elapsed = formatDuration(Date.now() - started);
    const step = current ? ` — ${current}${measured ? ` ${measured}` : ''}` : '';
    const text = `${FRAMES[frame % FRAMES.length]} ${headline}${step} (${elapsed})`;
    frame++;
    stream.write(`\r\x1b[2K${text}`);
  };
  const timer = setInterval(render, 100);
  timer.unref();
  render();
  return {
    label(text) {
      headline = text;
    },
    step(text, detail) {
      const changed = text !== current;
      current = text;
      measured = describeDetail(detail, true);
      // A new step shows at once (a short pull may start and end between two frames).
      if (changed) render();
    },
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}

/** Piped output: a line when measured work starts, one with its totals when the operation ends. */
function lines(stream: Stream): Progress {
  let since: number | undefined;
  let last: { text: string; detail: ProgressDetail } | undefined;
  return {
    label() {},
    step(text, detail) {
      if (!detail) return;
      if (since === undefined) {
        since = Date.now();
        stream.write(`${text} …\n`);
      }
      last = { text, detail };
    },
    stop() {
      if (!last || since === undefined) return;
      const summary = describeDetail(last.detail, false);
      stream.write(
        `${last.text}${summary ? `: ${summary}` : ''} (${formatDuration(Date.now() - since)})\n`,
      );
      last = undefined;
    },
  };
}
