/**
 * Streamable HTTP: bound to 127.0.0.1 only, every request must carry the bearer token, and a
 * request naming another Host (DNS rebinding) or coming from another Origin (a web page) is
 * refused. Each MCP session is one `Session` of instances; it ends (and its instances are
 * deleted) when the client ends it (HTTP DELETE), when a client that held the notification
 * stream dropped every connection for `disconnectGraceMs`, or after `idleTimeoutMs` without a
 * request.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InvalidOptionsError } from '@vms/core';
import type { ConnectedSession, VmsMcpServer } from './server.js';

export interface HttpOptions {
  /** TCP port on 127.0.0.1 (default 0: any free port; see `url`). */
  port?: number;
  /** Bearer token clients must send (at least 16 characters). Default: a random one (see `token`). */
  token?: string;
  /** A session without a request (and no open stream) for this long ends (default 30 min). */
  idleTimeoutMs?: number;
  /** A session whose client held the notification stream and then dropped every connection ends after this long (default 60 s). */
  disconnectGraceMs?: number;
  /** Largest request body, bytes (default 8 MiB: inline file content travels in requests). */
  maxBodyBytes?: number;
}

export interface HttpHandle {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Ends every session (deleting its instances) and stops listening. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const PATH = '/mcp';

interface HttpSession {
  transport: StreamableHTTPServerTransport;
  connected: ConnectedSession;
  open: number;
  hadStream: boolean;
  timer: NodeJS.Timeout | undefined;
}

function reject(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max)
      throw Object.assign(new Error(`request body over ${max} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('request body is not JSON'), { status: 400 });
  }
}

/** Serves `server` over Streamable HTTP on 127.0.0.1. */
export async function serveHttp(
  server: VmsMcpServer,
  options: HttpOptions = {},
): Promise<HttpHandle> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (token.length < 16 || /\s/.test(token)) {
    throw new InvalidOptionsError([
      { path: 'token', message: 'must be at least 16 characters, without spaces' },
    ]);
  }
  const idleMs = options.idleTimeoutMs ?? 30 * 60_000;
  const graceMs = options.disconnectGraceMs ?? 60_000;
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const sessions = new Map<string, HttpSession>();
  let port = 0;
  let closing = false;

  const schedule = (s: HttpSession) => {
    clearTimeout(s.timer);
    s.timer = undefined;
    if (s.open > 0) return;
    const after = s.hadStream ? graceMs : idleMs;
    s.timer = setTimeout(() => void s.transport.close(), after);
    s.timer.unref();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const allowedHosts = [`${HOST}:${port}`, `localhost:${port}`];
    if (!allowedHosts.includes(req.headers.host ?? '')) return reject(res, 403, 'forbidden host');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts.map((h) => `http://${h}`).includes(origin))
      return reject(res, 403, 'forbidden origin');
    const auth = req.headers.authorization ?? '';
    const given = /^Bearer (\S+)$/i.exec(auth)?.[1];
    if (!given || !sameToken(given, token))
      return reject(res, 401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
    if (new URL(req.url ?? '/', `http://${HOST}`).pathname !== PATH)
      return reject(res, 404, `not found: the endpoint is ${PATH}`);
    if (closing) return reject(res, 503, 'the server is shutting down');

    const id = req.headers['mcp-session-id'];
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readBody(req, maxBody);
      } catch (error) {
        return reject(res, (error as { status?: number }).status ?? 400, (error as Error).message);
      }
    }
    let s: HttpSession | undefined;
    if (typeof id === 'string') {
      s = sessions.get(id);
      if (!s) return reject(res, 404, 'unknown or ended session');
    } else if (req.method === 'POST' && isInitializeRequest(body)) {
      let created: HttpSession | undefined;
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          if (created) sessions.set(sid, created);
        },
      });
      const connected = await server.connect(transport, 'http');
      created = { transport, connected, open: 0, hadStream: false, timer: undefined };
      const mine = created;
      void connected.closed.then(() => {
        clearTimeout(mine.timer);
        for (const [sid, other] of sessions) if (other === mine) sessions.delete(sid);
      });
      s = created;
    } else {
      return reject(res, 400, 'no mcp-session-id: start with an initialize request');
    }
    const current = s;
    current.open++;
    if (req.method === 'GET') current.hadStream = true;
    clearTimeout(current.timer);
    res.once('close', () => {
      current.open--;
      schedule(current);
    });
    await current.transport.handleRequest(req, res, body);
    // An initialize that did not take (rejected by the transport) leaves no session behind.
    if (current.transport.sessionId === undefined) void current.connected.close();
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        reject(res, 500, error instanceof Error ? error.message : String(error));
      else res.end();
    });
  });
  await new Promise<void>((resolve, rejectListen) => {
    http.once('error', rejectListen);
    http.listen(options.port ?? 0, HOST, () => {
      http.off('error', rejectListen);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;

  return {
    url: `http://${HOST}:${port}${PATH}`,
    port,
    token,
    async close() {
      closing = true;
      const all = [...new Set(sessions.values())];
      await Promise.allSettled(all.map((s) => s.connected.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
