/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/**
 * `@vms/mcp/sessions`: how an MCP server marks what it makes, so that `vms prune` can tell the
 * instances of a live server from those a crashed one left behind. No MCP SDK here: the CLI's
 * prune loads this alone.
 *
 * Every session (one MCP client connection) has a random id. Its instances are named
 * `mcp-<id>-<name>` (backends without labels are found by that prefix) and labelled
 * `dev.vms.mcp-session=<id>`. While the server lives, `<VMS_HOME>/mcp/sessions/<id>.json` holds
 * the server's PID and process start time; a record whose process is gone (or whose PID now
 * belongs to another process) marks a session whose instances are leftovers.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isStaleOwner, processStartTime, writeFileAtomic } from '@vms/core';

/** Label on every instance a session creates: the session id. */
export const SESSION_LABEL = 'dev.vms.mcp-session';
/** Label on every instance a session creates: the name the agent gave it. */
export const ALIAS_LABEL = 'dev.vms.mcp-name';

const SESSION_ID = /^[0-9a-f]{8}$/;

export interface SessionRecord {
  schemaVersion: 1;
  id: string;
  /** `stdio`, `http`, or `pool` (the warm pools of a server). */
  kind: 'stdio' | 'http' | 'pool';
  pid: number;
  /** Start time of the server process (clock ticks since boot), to tell a reused PID apart. */
  startTime: number | null;
  hostname: string;
  startedAt: string;
}

export function newSessionId(): string {
  return randomBytes(4).toString('hex');
}

/** The instance-name prefix of a session's instances. */
export function sessionPrefix(id: string): string {
  return `mcp-${id}-`;
}

/** The session id an instance belongs to, from its name or its labels; undefined when none. */
export function sessionOf(instance: {
  name: string;
  properties?: { labels?: Record<string, string> };
}): string | undefined {
  const labels = instance.properties?.labels;
  const label = labels && Object.hasOwn(labels, SESSION_LABEL) ? labels[SESSION_LABEL] : undefined;
  if (label && SESSION_ID.test(label)) return label;
  const m = /^mcp-([0-9a-f]{8})-/.exec(instance.name);
  return m?.[1];
}

export function sessionsDir(home: string): string {
  return join(home, 'mcp', 'sessions');
}

function recordPath(home: string, id: string): string {
  if (!SESSION_ID.test(id)) throw new Error(`invalid session id ${JSON.stringify(id)}`);
  return join(sessionsDir(home), `${id}.json`);
}

let selfStart: number | null | undefined;

/** Writes the record of a session served by this process. */
export async function writeSessionRecord(
  home: string,
  id: string,
  kind: SessionRecord['kind'],
): Promise<SessionRecord> {
  selfStart ??= processStartTime(process.pid);
  const record: SessionRecord = {
    schemaVersion: 1,
    id,
    kind,
    pid: process.pid,
    startTime: selfStart,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
  };
  await mkdir(sessionsDir(home), { recursive: true, mode: 0o700 });
  await writeFileAtomic(recordPath(home, id), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

export async function removeSessionRecord(home: string, id: string): Promise<void> {
  await rm(recordPath(home, id), { force: true });
}

function parseRecord(text: string): SessionRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<SessionRecord>;
    if (r.schemaVersion !== 1 || typeof r.id !== 'string' || !SESSION_ID.test(r.id))
      return undefined;
    if (typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid <= 0) return undefined;
    return {
      schemaVersion: 1,
      id: r.id,
      kind: r.kind === 'http' || r.kind === 'pool' ? r.kind : 'stdio',
      pid: r.pid,
      startTime: typeof r.startTime === 'number' ? r.startTime : null,
      hostname: typeof r.hostname === 'string' ? r.hostname : '',
      startedAt: typeof r.startedAt === 'string' ? r.startedAt : '',
    };
  } catch {
    return undefined;
  }
}

export interface SessionStatus extends SessionRecord {
  /** False when the server process is gone (or its PID was reused): the session's instances are leftovers. */
  alive: boolean;
}

/** Every session record under `home`, with whether its server still runs. Unreadable files are skipped. */
export async function listSessions(home: string): Promise<SessionStatus[]> {
  let names: string[];
  try {
    names = await readdir(sessionsDir(home));
  } catch {
    return [];
  }
  const out: SessionStatus[] = [];
  for (const name of names.filter((n) => /^[0-9a-f]{8}\.json$/.test(n)).sort()) {
    const text = await readFile(join(sessionsDir(home), name), 'utf8').catch(() => undefined);
    const record = text === undefined ? undefined : parseRecord(text);
    if (!record) continue;
    const alive = !isStaleOwner({
      pid: record.pid,
      startTime: record.startTime,
      hostname: record.hostname,
      acquiredAt: record.startedAt,
      token: '',
    });
    out.push({ ...record, alive });
  }
  return out;
}
