/**
 * Who may talk to the dashboard: a random token (in the printed URL, then an HttpOnly,
 * SameSite=Strict cookie), and Host and Origin checks on every request, the WebSocket upgrade
 * included, so a page on another site (or a DNS-rebound name) cannot drive the instances.
 * No CORS headers are ever sent.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface Gate {
  readonly token: string;
  /** Per port: cookies are shared by every port of a host, so two dashboards must not collide. */
  readonly cookieName: string;
  /** `host:port` values accepted in the Host header (lower case). */
  readonly hosts: ReadonlySet<string>;
  /** Origins accepted (`http://host:port`). */
  readonly origins: ReadonlySet<string>;
}

export type Refusal = { status: number; message: string };

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host` as it appears in a Host header: IPv6 in brackets. */
export function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function wildcardAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => hostForUrl(i.address));
}

/**
 * The gate of a server bound to `host:port`. Loopback names are always accepted; a specific
 * address is accepted as itself; a wildcard bind (0.0.0.0, ::) accepts this machine's
 * interface addresses and `extraHosts` (names the user vouches for), never any name.
 */
export function makeGate(
  host: string,
  port: number,
  token: string,
  extraHosts: string[] = [],
): Gate {
  const names = new Set(LOOPBACK_NAMES);
  if (host === '0.0.0.0' || host === '::') for (const a of wildcardAddresses()) names.add(a);
  else names.add(hostForUrl(host));
  for (const h of extraHosts) names.add(hostForUrl(h));
  const hosts = new Set([...names].map((n) => `${n}:${port}`.toLowerCase()));
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  return { token, cookieName: `vms_ui_${port}`, hosts, origins };
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Host (DNS rebinding) and Origin (cross-site requests) checks. */
export function checkOrigin(
  gate: Gate,
  req: IncomingMessage,
  needsOrigin: boolean,
): Refusal | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!gate.hosts.has(host)) {
    return { status: 421, message: `refused: unexpected Host ${JSON.stringify(host)}` };
  }
  const origin = req.headers.origin;
  if (origin === undefined) {
    return needsOrigin
      ? { status: 403, message: 'refused: this request needs an Origin header' }
      : undefined;
  }
  if (!gate.origins.has(origin.toLowerCase())) {
    return { status: 403, message: `refused: foreign Origin ${JSON.stringify(origin)}` };
  }
  return undefined;
}

/** The token check: the session cookie, or `Authorization: Bearer <token>` for scripts. */
export function checkToken(gate: Gate, req: IncomingMessage): Refusal | undefined {
  const auth = req.headers.authorization;
  const given = auth?.startsWith('Bearer ')
    ? auth.slice(7)
    : cookieValue(req.headers.cookie, gate.cookieName);
  if (given !== undefined && sameSecret(given, gate.token)) return undefined;
  return {
    status: 401,
    message:
      given === undefined
        ? 'refused: no session (open the URL vms ui printed)'
        : 'refused: wrong token',
  };
}

/** Whether `?token=` in the URL is the right one. */
export function tokenMatches(gate: Gate, given: string): boolean {
  return sameSecret(given, gate.token);
}

export function sessionCookie(gate: Gate): string {
  return `${gate.cookieName}=${gate.token}; HttpOnly; SameSite=Strict; Path=/`;
}
