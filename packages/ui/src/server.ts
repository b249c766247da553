/**
 * `startUi(options)`: the dashboard's HTTP server (node:http) with its JSON API, the event
 * stream (server-sent events) and the terminal (WebSocket), behind the token and the Host and
 * Origin checks of `security.ts`.
 *
 *   GET  /?token=…                        sets the session cookie, then redirects to /
 *   GET  /                                 the page (and its files: /app.js, /app.css, …)
 *   GET  /api/state                        everything the page shows, as JSON
 *   GET  /api/events                       the same, live: a snapshot, then every change
 *   GET  /api/backends/:name/schema        JSON Schema of the backend's options (the create form)
 *   POST /api/instances                    create {backend, name, options, start}
 *   POST /api/instances/:id/:action        start | stop | suspend | resume | delete | snapshot | refresh
 *   GET  /api/instances/:id/snapshots      the instance's snapshots
 *   GET  /api/instances/:id/logs           its logs, followed (server-sent events)
 *   GET  /api/instances/:id/terminal       WebSocket upgrade: a shell with a TTY
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type BackendV1,
  type InstanceSettings,
  NotFoundError,
  optionsJsonSchema,
  VmsError,
} from '@vms/core';
import { WebSocketServer } from 'ws';
import { Actions } from './actions.js';
import { type Asset, loadAssets } from './assets.js';
import { readJson, sendError, sendJson, sendText, writeHead } from './http-util.js';
import { Hub } from './hub.js';
import { BackendFeed } from './live.js';
import { streamLogs } from './logs.js';
import { INSTANCE_ACTIONS, type InstanceAction } from './protocol.js';
import {
  checkOrigin,
  checkToken,
  type Gate,
  hostForUrl,
  makeGate,
  type Refusal,
  randomToken,
  sessionCookie,
  tokenMatches,
} from './security.js';
import { openSse } from './sse.js';
import { parseTerminalQuery, runTerminal } from './terminal.js';

export interface UnavailableBackend {
  name: string;
  reason: string;
  hint?: string;
}

export interface UiOptions {
  /** The backends to show and act on. */
  backends: readonly BackendV1[];
  /** Backends that could not be loaded (package missing, load failed): shown with why. */
  unavailable?: readonly UnavailableBackend[];
  /** Address to bind (default 127.0.0.1). Anything but loopback exposes the machine's instances. */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** The session token (default: 24 random bytes). */
  token?: string;
  /** Extra Host names to accept (a wildcard bind accepts only this machine's addresses). */
  allowedHosts?: readonly string[];
  /** Settings of every Instance the dashboard makes (timeouts, VMS_HOME, debug sink). */
  settings?: InstanceSettings;
  /** Poll interval for backends without an event stream (default 2000 ms). */
  pollMs?: number;
  /** Deadline of each backend's detect() and list() (default 10 s). */
  callTimeoutMs?: number;
  /** Also show instances @vms did not create. */
  all?: boolean;
  /** How long a deleted instance stays on the page (default 10 min). */
  deletedTtlMs?: number;
  /** Directory of the built page (default: the package's own). */
  assetsDir?: string;
}

export interface UiServer {
  /** The URL to open, token included. */
  readonly url: string;
  /** `http://host:port`. */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Resolves once every backend was detected and listed once. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const ID = '([^/]+)';
const ROUTES = {
  schema: new RegExp(`^/api/backends/${ID}/schema$`),
  action: new RegExp(`^/api/instances/${ID}/([a-z]+)$`),
  terminal: new RegExp(`^/api/instances/${ID}/terminal$`),
};

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return '';
  }
}

function isAction(value: string): value is InstanceAction {
  return (INSTANCE_ACTIONS as readonly string[]).includes(value);
}

function refuse(res: ServerResponse, refusal: Refusal, html = false): void {
  if (!html) {
    sendJson(res, refusal.status, { error: { code: 'REFUSED', message: refusal.message } });
    return;
  }
  writeHead(res, refusal.status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(
    `<!doctype html><meta charset="utf-8"><title>vms ui</title><p>${refusal.message.replace(/[<>&"]/g, '')}.</p><p>Open the URL that <code>vms ui</code> printed.</p>\n`,
  );
}

function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  socket.end(
    `HTTP/1.1 ${refusal.status} Refused\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refusal.message}\n`,
  );
}

export async function startUi(options: UiOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomToken();
  if (token.length < 16 || !/^[\w-]+$/.test(token)) {
    throw new VmsError(
      'INVALID_OPTIONS',
      'the token must be at least 16 characters of [A-Za-z0-9_-]',
    );
  }
  const assets: Map<string, Asset> = loadAssets(options.assetsDir);
  const backends = new Map<string, BackendV1>();
  for (const b of options.backends) backends.set(b.name, b);
  const hub = new Hub(
    options.deletedTtlMs !== undefined ? { deletedTtlMs: options.deletedTtlMs } : {},
  );
  for (const u of options.unavailable ?? []) {
    if (!backends.has(u.name))
      hub.setBackend({
        name: u.name,
        available: false,
        reason: u.reason,
        ...(u.hint ? { hint: u.hint } : {}),
        live: 'none',
      });
  }
  const closing = new AbortController();
  const actions = new Actions(hub, backends, options.settings ?? {}, closing.signal);
  let gate: Gate | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse, g: Gate): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const origin = checkOrigin(g, req, method !== 'GET' && method !== 'HEAD');
    if (origin) return refuse(res, origin, path === '/');
    if (method !== 'GET' && method !== 'POST') return sendText(res, 405, 'method not allowed');
    if (path === '/' && url.searchParams.has('token')) {
      if (!tokenMatches(g, url.searchParams.get('token') ?? ''))
        return refuse(res, { status: 401, message: 'refused: wrong token' }, true);
      writeHead(res, 303, { Location: '/', 'Set-Cookie': sessionCookie(g) });
      res.end();
      return;
    }
    const auth = checkToken(g, req);
    if (auth) return refuse(res, auth, !path.startsWith('/api/'));

    if (method === 'GET') {
      const asset = assets.get(path === '/' ? '/index.html' : path);
      if (asset) {
        writeHead(res, 200, { 'Content-Type': asset.type });
        res.end(asset.body);
        return;
      }
      if (path === '/favicon.ico') {
        writeHead(res, 204);
        res.end();
        return;
      }
      if (path === '/api/state') return sendJson(res, 200, hub.snapshot());
      if (path === '/api/events') {
        const sse = openSse(req, res);
        sse.send('message', { type: 'snapshot', ...hub.snapshot() });
        const off = hub.subscribe((m) => sse.send('message', m));
        sse.signal.addEventListener('abort', off, { once: true });
        closing.signal.addEventListener('abort', () => sse.close(), { once: true });
        return;
      }
      const schema = ROUTES.schema.exec(path);
      if (schema) {
        const backend = backends.get(decode(schema[1]));
        if (!backend)
          throw new NotFoundError(
            `no backend ${JSON.stringify(decode(schema[1]))} in this dashboard`,
          );
        return sendJson(res, 200, {
          backend: backend.name,
          schema: optionsJsonSchema(backend.optionsSchema) ?? null,
        });
      }
      const sub = ROUTES.action.exec(path);
      if (sub?.[2] === 'logs')
        return streamLogs(
          req,
          res,
          actions,
          decode(sub[1]),
          url.searchParams.get('tail'),
          closing.signal,
        );
      if (sub?.[2] === 'snapshots')
        return sendJson(res, 200, {
          snapshots: await actions.snapshots(decode(sub[1]), closing.signal),
        });
      return sendText(res, 404, 'not found');
    }

    if (path === '/api/instances') {
      const created = await actions.create(await readJson(req), closing.signal);
      return sendJson(res, 201, { ok: true, ...created });
    }
    const act = ROUTES.action.exec(path);
    const action = act?.[2];
    if (act && action && isAction(action)) {
      const result = await actions.act(decode(act[1]), action, await readJson(req), closing.signal);
      return sendJson(res, 200, { ok: true, result: result ?? null });
    }
    return sendText(res, 404, 'not found');
  };

  const server: Server = createServer((req, res) => {
    if (!gate) return sendText(res, 503, 'starting');
    handle(req, res, gate).catch((error: unknown) => {
      if (res.headersSent) res.end();
      else sendError(res, error);
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!gate) return refuseUpgrade(socket, { status: 503, message: 'starting' });
    const refusal = checkOrigin(gate, req, true) ?? checkToken(gate, req);
    if (refusal) return refuseUpgrade(socket, refusal);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = ROUTES.terminal.exec(url.pathname);
    if (!m) return refuseUpgrade(socket, { status: 404, message: 'not found' });
    const request = parseTerminalQuery(decode(m[1]), url.searchParams);
    wss.handleUpgrade(req, socket, head, (ws) => {
      void runTerminal(ws, actions, request, closing.signal);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  gate = makeGate(host, port, token, [...(options.allowedHosts ?? [])]);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : hostForUrl(host);
  const origin = `http://${shownHost}:${port}`;

  const feeds = options.backends.map(
    (b) =>
      new BackendFeed(b, hub, {
        ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
        ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
        ...(options.all !== undefined ? { all: options.all } : {}),
      }),
  );
  const ready = Promise.all(feeds.map((f) => f.start())).then(() => undefined);

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    host,
    port,
    token,
    ready,
    close() {
      closed ??= (async () => {
        closing.abort();
        for (const f of feeds) f.close();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        actions.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
