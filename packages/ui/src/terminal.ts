/**
 * `GET /api/instances/:id/terminal` upgraded to a WebSocket: a shell run with core's
 * `exec(argv, { tty: true })`, bytes in both directions. Page → server frames are the
 * keyboard's bytes; server → page binary frames are the terminal's output, and one final text
 * frame says how it ended (`{"type":"exit","exitCode":0}` or `{"type":"failure",…}`). Closing
 * the socket aborts the exec, which ends the process inside the instance too.
 *
 * The vms-backend-v1 contract has no terminal resize: the size is given once, as COLUMNS and
 * LINES, when the shell starts.
 */
import { PassThrough } from 'node:stream';
import { toVmsError } from '@vms/core';
import type { WebSocket } from 'ws';
import type { Actions } from './actions.js';

export interface TerminalRequest {
  id: string;
  /** The program to run (default /bin/sh). */
  shell: string;
  cols: number;
  rows: number;
}

export function parseTerminalQuery(id: string, query: URLSearchParams): TerminalRequest {
  const num = (key: string, fallback: number, max: number) => {
    const v = Number(query.get(key));
    return Number.isInteger(v) && v > 0 && v <= max ? v : fallback;
  };
  const shell = query.get('shell');
  return {
    id,
    shell: shell && /^\/[\w./-]{1,200}$/.test(shell) ? shell : '/bin/sh',
    cols: num('cols', 80, 1000),
    rows: num('rows', 24, 1000),
  };
}

export async function runTerminal(
  ws: WebSocket,
  actions: Actions,
  request: TerminalRequest,
  closing: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, closing]);
  const stdin = new PassThrough();
  ws.on('message', (data, isBinary) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    stdin.write(isBinary ? bytes : Buffer.from(bytes.toString('utf8')));
  });
  ws.on('close', () => {
    stdin.end();
    controller.abort();
  });
  const send = (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
  };
  try {
    const instance = await actions.handle(request.id);
    const result = await instance.exec([request.shell], {
      tty: true,
      stdin,
      signal,
      env: { TERM: 'xterm-256color', COLUMNS: String(request.cols), LINES: String(request.rows) },
      onStdout: send,
      onStderr: send,
      maxOutputBytes: 0,
    });
    if (ws.readyState === ws.OPEN)
      ws.send(JSON.stringify({ type: 'exit', exitCode: result.exitCode }));
  } catch (error) {
    if (!signal.aborted && ws.readyState === ws.OPEN) {
      const e = toVmsError(error);
      ws.send(
        JSON.stringify({
          type: 'failure',
          code: e.code,
          message: e.message,
          ...(e.hint ? { hint: e.hint } : {}),
        }),
      );
    }
  } finally {
    if (ws.readyState === ws.OPEN) ws.close(1000, 'ended');
  }
}
