/** Small HTTP helpers: security headers on every response, JSON in and out, typed error bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionsError, toVmsError, VmsError } from '@vms/core';

/**
 * Sent with every response. No Access-Control-* header is ever sent (no CORS). Scripts come
 * from this server only; inline styles are allowed because xterm.js sizes and colours its
 * terminal with them.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function writeHead(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  writeHead(res, status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  writeHead(res, status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

/** An error as the page shows it: code, message, hint, and the fields at fault. */
export function errorBody(error: unknown): {
  error: {
    code: string;
    message: string;
    hint?: string;
    issues?: Array<{ path: string; message: string }>;
  };
} {
  const e = toVmsError(error);
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
      ...(VmsError.hasCode(e, 'INVALID_OPTIONS') ? { issues: e.issues } : {}),
    },
  };
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_OPTIONS: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_TRANSITION: 409,
  LOCKED: 409,
  CAPABILITY_UNSUPPORTED: 501,
  BACKEND_UNAVAILABLE: 503,
  TIMEOUT: 504,
};

export function sendError(res: ServerResponse, error: unknown): void {
  const body = errorBody(error);
  sendJson(res, STATUS_BY_CODE[body.error.code] ?? 500, body);
}

const MAX_BODY = 1024 * 1024;

/** Reads a JSON body (at most 1 MiB, application/json only). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    throw new InvalidOptionsError([{ path: 'body', message: 'must be application/json' }]);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new VmsError('INVALID_OPTIONS', 'request body larger than 1 MiB');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new InvalidOptionsError([{ path: 'body', message: 'is not valid JSON' }]);
  }
}
