/** Server-sent events: one long response, one JSON message per event, a comment as keep-alive. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeHead } from './http-util.js';

export interface SseStream {
  send(event: string, data: unknown): void;
  /** Aborted when the page goes away (or the server closes). */
  readonly signal: AbortSignal;
  close(): void;
}

const KEEPALIVE_MS = 15_000;

export function openSse(req: IncomingMessage, res: ServerResponse): SseStream {
  const controller = new AbortController();
  writeHead(res, 200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write(': open\n\n');
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const close = () => {
    if (controller.signal.aborted) return;
    clearInterval(keepalive);
    controller.abort();
    res.end();
  };
  req.on('close', close);
  res.on('close', close);
  return {
    signal: controller.signal,
    send(event, data) {
      if (controller.signal.aborted) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close,
  };
}
