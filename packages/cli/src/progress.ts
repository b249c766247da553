/**
 * A one-line spinner on stderr with the current step and elapsed time, fed by the Instance's
 * `state` and `progress` events. Only when stderr is a terminal and --json is off; otherwise
 * every method does nothing, so piped output never holds control codes.
 */
import type { Stream } from './output.js';
import { formatDuration } from './units.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  /** Sets the headline ("starting docker:web"). */
  label(text: string): void;
  /** Sets the current step ("waiting for SSH"). */
  step(text: string): void;
  /** Clears the line and stops. */
  stop(): void;
}

const silent: Progress = { label() {}, step() {}, stop() {} };

export function createProgress(stream: Stream, enabled: boolean, label: string): Progress {
  if (!enabled) return silent;
  const started = Date.now();
  let frame = 0;
  let headline = label;
  let current = '';
  const render = () => {
    const elapsed = formatDuration(Date.now() - started);
    const text = `${FRAMES[frame % FRAMES.length]} ${headline}${current ? ` — ${current}` : ''} (${elapsed})`;
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
    step(text) {
      current = text;
    },
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}
