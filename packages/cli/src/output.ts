/**
 * Everything `vms` writes: human text and tables on stdout, notes and errors on stderr, and the
 * versioned JSON envelope (`{ "schema": "vms-cli/v1", "command": …, … }`) with --json. Colour
 * only when the stream is a terminal and NO_COLOR is unset.
 */
import type { Writable } from 'node:stream';

export const JSON_SCHEMA = 'vms-cli/v1';

export interface Stream {
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
}

export function isTerminal(stream: Stream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}

function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTerminal(stream, env);
}

const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof STYLES;

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
const visibleLength = (text: string) => text.replace(ANSI, '').length;

export class Output {
  readonly stdout: Stream;
  readonly stderr: Stream;
  readonly json: boolean;
  readonly #colorOut: boolean;
  readonly #colorErr: boolean;

  constructor(
    stdout: Stream | Writable,
    stderr: Stream | Writable,
    env: NodeJS.ProcessEnv,
    json: boolean,
  ) {
    this.stdout = stdout as Stream;
    this.stderr = stderr as Stream;
    this.json = json;
    this.#colorOut = colorEnabled(this.stdout, env);
    this.#colorErr = colorEnabled(this.stderr, env);
  }

  /** Styles text for stdout (or stderr with `err`), when colour is on. */
  style(text: string, style: Style, err = false): string {
    if (!(err ? this.#colorErr : this.#colorOut)) return text;
    const [open, close] = STYLES[style];
    return `\x1b[${open}m${text}\x1b[${close}m`;
  }

  /** A line of the command's result on stdout. */
  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** A note for the human on stderr (never part of the result). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`${this.style('warning:', 'yellow', true)} ${text}\n`);
  }

  /** The JSON result: one envelope, pretty-printed. */
  result(command: string, payload: Record<string, unknown>): void {
    this.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA, command, ...payload }, null, 2)}\n`);
  }

  /** One NDJSON record (streams: events, logs). */
  record(payload: Record<string, unknown>): void {
    this.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA, ...payload })}\n`);
  }

  /** A left-aligned table; empty cells show as "-". */
  table(headers: string[], rows: Array<Array<string | undefined>>): void {
    const cells = rows.map((r) => headers.map((_, i) => r[i] || '-'));
    const widths = headers.map((h, i) =>
      Math.max(h.length, ...cells.map((r) => visibleLength(r[i] ?? ''))),
    );
    const render = (r: string[]) =>
      r
        .map((c, i) =>
          i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c)),
        )
        .join('  ')
        .trimEnd();
    this.line(this.style(render(headers), 'bold'));
    for (const r of cells) this.line(render(r));
  }

  /** `error: …` and `hint: …` on stderr, one line each (control characters shown escaped). */
  error(message: string, hint?: string): void {
    this.stderr.write(`${this.style('error:', 'red', true)} ${oneLine(message)}\n`);
    if (hint) this.stderr.write(`${this.style('hint:', 'cyan', true)} ${oneLine(hint)}\n`);
  }
}

/** Text for one line of a terminal: control characters (newlines, escapes) as JSON escapes. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what is escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Colours a state name for tables. */
export function stateStyle(state: string): Style | undefined {
  if (state === 'running') return 'green';
  if (state === 'broken') return 'red';
  if (state === 'suspended' || state === 'stopped') return 'yellow';
  return undefined;
}
