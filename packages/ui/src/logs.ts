/**
 * `GET /api/instances/:id/logs`: the instance's logs as server-sent events, following new
 * output until the page closes the stream (core's `logs({ follow })` under the stream's signal).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toVmsError } from '@vms/core';
import type { Actions } from './actions.js';
import { sendError } from './http-util.js';
import { openSse } from './sse.js';

const DEFAULT_TAIL = 200;

export async function streamLogs(
  req: IncomingMessage,
  res: ServerResponse,
  actions: Actions,
  id: string,
  tailParam: string | null,
  closing: AbortSignal,
): Promise<void> {
  const tail = tailParam && /^\d{1,6}$/.test(tailParam) ? Number(tailParam) : DEFAULT_TAIL;
  let instance: Awaited<ReturnType<Actions['handle']>>;
  try {
    instance = await actions.handle(id);
  } catch (error) {
    sendError(res, error);
    return;
  }
  const sse = openSse(req, res);
  const signal = AbortSignal.any([sse.signal, closing]);
  try {
    await instance.logs({
      follow: true,
      tail,
      signal,
      onData: (chunk, stream) => sse.send('data', { stream, text: chunk.toString('utf8') }),
    });
    sse.send('end', {});
  } catch (error) {
    if (!signal.aborted) {
      const e = toVmsError(error);
      sse.send('failure', {
        code: e.code,
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
  } finally {
    sse.close();
  }
}
