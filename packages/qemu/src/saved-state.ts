/**
 * Start from a saved state. A *template* is a VM booted once and saved while it ran: its memory
 * and devices (a QEMU migration stream, `state.bin`), its disk as it was at that moment (the
 * base of every clone's own qcow2 overlay), its seed, its login key and its pinned host key. A
 * *clone* is an instance created `from: { template }`: its first start launches QEMU with
 * `-incoming`, so the guest resumes where the template stopped instead of booting, then gets its
 * own identity over SSH (see REFRESH_SCRIPT). Later starts of a clone boot it from its own disk.
 *
 * What a clone refreshes on restore: its SSH host key (a new ed25519 key, pinned afresh), hostname,
 * machine-id, MAC address (its NIC's, inside the guest), the clock, and the kernel's entropy
 * pool (fresh bytes from the host mixed in). What it does not: everything else in memory — a
 * process the template ran keeps running with the template's state (its own random seeds,
 * caches, open connections' memory). Prepare a template accordingly.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AlreadyExistsError,
  fatal,
  INSTANCE_NAME_PATTERN,
  InvalidOptionsError,
  NotFoundError,
  OperationFailedError,
  type ProcessRunner,
  ProtocolError,
  randomHex,
  sleep,
  writeFileAtomic,
} from '@vms/core';
import * as z from '@vms/core/zod';
import { newHostKey } from './host-keygen.js';
import { knownHostsText } from './host-keys.js';
import type { QmpClient } from './qmp.js';
import { shellJoin, shellQuote } from './quote.js';
import { type SshTarget, sshArgv } from './ssh.js';
import { machineSchema } from './state.js';

/** The alias a template's host key is pinned under in its known_hosts. */
export const TEMPLATE_HOST_ALIAS = 'vms-template';

export const templateManifestSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string(),
  createdAt: z.string(),
  /** The machine every clone must be launched as (the migration stream expects it). */
  machine: machineSchema,
  /** Whether the template has a disk (clones get an overlay over it) and a NoCloud seed. */
  disk: z.boolean(),
  seed: z.boolean(),
  /** Size of the saved memory and device state. */
  stateBytes: z.number().int().nonnegative(),
});
export type TemplateManifest = z.infer<typeof templateManifestSchema>;

export interface TemplatePaths {
  dir: string;
  manifest: string;
  /** The migration stream: memory and device state. */
  state: string;
  /** The disk as it was when the state was saved; read-only base of the clones' overlays. */
  disk: string;
  seedIso: string;
  privateKey: string;
  /** The template's SSH host key, pinned under TEMPLATE_HOST_ALIAS. */
  knownHosts: string;
}

export function validateTemplateName(name: unknown): string {
  if (typeof name !== 'string' || !INSTANCE_NAME_PATTERN.test(name)) {
    throw new InvalidOptionsError([
      {
        path: 'template',
        message: `${JSON.stringify(name)} is not a valid template name (letters, digits, "_", "." and "-", starting with a letter or digit)`,
      },
    ]);
  }
  return name;
}

export function templatePaths(root: string, name: string): TemplatePaths {
  const dir = join(root, validateTemplateName(name));
  return {
    dir,
    manifest: join(dir, 'template.json'),
    state: join(dir, 'state.bin'),
    disk: join(dir, 'disk.qcow2'),
    seedIso: join(dir, 'seed.iso'),
    privateKey: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
  };
}

/** The template's manifest, or undefined when there is no (complete) template of that name. */
export async function readTemplate(
  root: string,
  name: string,
): Promise<TemplateManifest | undefined> {
  const paths = templatePaths(root, name);
  let text: string;
  try {
    text = await readFile(paths.manifest, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = templateManifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new ProtocolError(`the manifest of qemu template ${name} is not valid`, {
      hint: `delete the template and save it again: ${paths.dir}`,
    });
  }
  return parsed.data;
}

/** The template, or a NotFoundError naming what to do. */
export async function mustTemplate(root: string, name: string): Promise<TemplateManifest> {
  const t = await readTemplate(root, name);
  if (!t) {
    throw new NotFoundError(`qemu template ${name} does not exist`, {
      hint: 'save one first: qemu.templates.save(name, options)',
    });
  }
  return t;
}

/** Names of the complete templates under `root` (a save in progress has no manifest yet). */
export async function listTemplates(root: string): Promise<TemplateManifest[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const out: TemplateManifest[] = [];
  for (const name of names.filter((n) => INSTANCE_NAME_PATTERN.test(n)).sort()) {
    const t = await readTemplate(root, name).catch(() => undefined);
    if (t) out.push(t);
  }
  return out;
}

/** Claims the template's directory (exclusive): a second save of the same name fails. */
export async function claimTemplateDir(paths: TemplatePaths, name: string): Promise<void> {
  await mkdir(join(paths.dir, '..'), { recursive: true, mode: 0o700 });
  try {
    await mkdir(paths.dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AlreadyExistsError(`qemu template ${name} already exists (or is being saved)`, {
        hint: 'pick another name, or delete it first: qemu.templates.delete(name)',
      });
    }
    throw error;
  }
}

/** Moves a file, copying across filesystems. */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

export async function writeManifest(paths: TemplatePaths, manifest: TemplateManifest) {
  await writeFileAtomic(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function writeTemplateKnownHosts(paths: TemplatePaths, keys: readonly string[]) {
  await writeFile(paths.knownHosts, knownHostsText(TEMPLATE_HOST_ALIAS, keys), { mode: 0o600 });
}

export async function fileBytes(path: string): Promise<number> {
  return (await stat(path)).size;
}

// ---------------------------------------------------------------- QMP: save and load

interface Ctx {
  signal: AbortSignal;
  deadline: number;
}

const left = (ctx: Ctx) => Math.max(1, ctx.deadline - Date.now());

/**
 * Saves the running VM's memory and device state to `file`: the guest is paused first (so
 * memory and disk stay consistent, and one pass copies everything), then QEMU streams its state
 * through `cat`. QEMU is left paused; the caller ends it.
 */
export async function saveVmState(q: QmpClient, file: string, ctx: Ctx): Promise<void> {
  await q.execute('stop', undefined, { signal: ctx.signal, timeoutMs: left(ctx) });
  await q.execute(
    'migrate',
    { uri: `exec:cat > ${shellQuote(file)}` },
    { signal: ctx.signal, timeoutMs: left(ctx) },
  );
  await untilMigration(q, 'saving the VM state', ctx);
}

/**
 * After a launch with `-incoming`: waits until QEMU has loaded the saved state, then resumes
 * the guest.
 */
export async function resumeIncoming(q: QmpClient, ctx: Ctx): Promise<void> {
  await untilMigration(q, 'loading the saved state', ctx);
  await q.execute('cont', undefined, { signal: ctx.signal, timeoutMs: left(ctx) });
}

async function untilMigration(q: QmpClient, what: string, ctx: Ctx): Promise<void> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const m = await q.execute<{ status?: string; 'error-desc'?: string }>(
      'query-migrate',
      undefined,
      { signal: ctx.signal, timeoutMs: left(ctx) },
    );
    if (m.status === 'completed') return;
    if (m.status === 'failed' || m.status === 'cancelled') {
      throw new OperationFailedError(
        `${what} failed: ${m['error-desc'] ?? m.status} (QEMU migration ${m.status})`,
      );
    }
    await sleep(delay, ctx.signal);
  }
}

// ---------------------------------------------------------------- a clone's own identity

/** A locally administered unicast MAC in QEMU's 52:54:00 range, random per clone. */
export function newMac(): string {
  const hex = randomHex(3);
  return `52:54:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

/** A machine-id (32 hex digits, as systemd writes them). */
export function newMachineId(): string {
  return randomHex(16);
}

export interface CloneIdentity {
  hostname: string;
  mac: string;
  machineId: string;
}

/**
 * Run in a restored clone as root over SSH (`sh -c SCRIPT refresh HOSTNAME MAC EPOCH
 * MACHINE_ID SEED DROPBEAR_KEY OPENSSH_KEY PUBLIC_KEY`, private keys in base64). It mixes the host's random bytes
 * into the kernel's pool, sets the clock, hostname and machine-id, runs the image's own hook
 * (`/etc/vms/clone-refresh`, same arguments) when there is one, installs the new ed25519 host
 * key made on the host (dropbear's or OpenSSH's format, whichever server runs; the template's
 * other host keys are removed) and restarts the server's listener with it (this session goes
 * on). The NIC's MAC address is set first, while nothing is on its way to the guest, and the
 * ARP cache flushed: the guest's next frame asks for the gateway from the new MAC, which the
 * host's virtual network learns at once (frames to the old MAC would be dropped and resent
 * only after a TCP timeout). Few processes are started: under emulation each costs. It prints
 * `vms-refreshed SERVER` (dropbear, sshd or none). Exit codes 70-72: the hook, the key or the
 * server restart failed.
 */
export const REFRESH_SCRIPT = `set -u
host=$1 mac=$2 now=$3 mid=$4 seed=$5 dbkey=$6 oskey=$7 pub=$8
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
umask 077
if [ -n "$mac" ] && [ -e /sys/class/net/eth0 ] && ip link set dev eth0 address "$mac" 2>/dev/null; then
  ip neigh flush dev eth0 2>/dev/null
fi
echo "$seed" >/dev/urandom 2>/dev/null
date -s "@$now" >/dev/null 2>&1
echo "$host" >/etc/hostname 2>/dev/null
echo "$host" >/proc/sys/kernel/hostname 2>/dev/null
echo "$mid" >/etc/machine-id 2>/dev/null
if [ -d /var/lib/dbus ]; then echo "$mid" >/var/lib/dbus/machine-id 2>/dev/null; fi
if [ -x /etc/vms/clone-refresh ]; then /etc/vms/clone-refresh "$@" >&2 || exit 70; fi
server=none
pid=
if [ -r /var/run/dropbear.pid ]; then read -r pid </var/run/dropbear.pid; fi
if [ -n "$pid" ] && [ -d /etc/dropbear ]; then
  server=dropbear
  k=/etc/dropbear/dropbear_ed25519_host_key
  for f in /etc/dropbear/dropbear_*_host_key; do [ "$f" = "$k" ] || rm -f "$f"; done
  printf '%s' "$dbkey" | base64 -d >"$k" || exit 71
  if [ -e "$k.pub" ]; then echo "$pub" >"$k.pub"; fi
  args=$(tr '\\000' ' ' </proc/"$pid"/cmdline)
  kill "$pid" 2>/dev/null
  # Started again as soon as the port is free (not once the old one is reaped: init may take
  # a second to, and a zombie holds no socket).
  i=0
  until $args 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 250 ] || exit 72
    sleep 0.02
  done
elif [ -d /etc/ssh ] && ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
  server=sshd
  k=/etc/ssh/ssh_host_ed25519_key
  rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
  printf '%s' "$oskey" | base64 -d >"$k" || exit 71
  echo "$pub" >"$k.pub"
  for p in $(cat /run/sshd.pid /var/run/sshd.pid 2>/dev/null); do kill -HUP "$p" 2>/dev/null; done
fi
echo "vms-refreshed $server"
exit 0
`;

/**
 * Gives a restored clone its own identity over SSH (authenticated with the template's pinned
 * host key) and returns the host keys to pin for it: the new key made here for it, or, in a
 * guest running neither dropbear nor OpenSSH's server, the template's (still pinned per clone,
 * but shared with the template and its other clones).
 */
export async function refreshClone(
  runner: ProcessRunner,
  template: SshTarget,
  identity: CloneIdentity,
  templateKeys: readonly string[],
  ctx: Ctx,
): Promise<string[]> {
  const key = newHostKey(`vms-${identity.hostname}`);
  const command = shellJoin([
    'sh',
    '-c',
    REFRESH_SCRIPT,
    'vms-clone-refresh',
    identity.hostname,
    identity.mac,
    String(Math.floor(Date.now() / 1000)),
    identity.machineId,
    randomHex(32),
    key.dropbear.toString('base64'),
    Buffer.from(key.openssh).toString('base64'),
    key.publicKey,
  ]);
  const r = await runner.run(sshArgv(template, command, 10), {
    signal: ctx.signal,
    deadline: ctx.deadline,
    okExitCodes: 'any',
    // The new private key is in the command line: never in a debug line or an error.
    redact: [key.dropbear.toString('base64'), Buffer.from(key.openssh).toString('base64')],
  });
  if (r.exitCode === 255) {
    // ssh itself failed (the guest's network or SSH server is not back yet): tried again.
    throw new OperationFailedError(`ssh to the restored clone failed: ${r.stderr.trim()}`);
  }
  if (r.exitCode !== 0) {
    throw fatal(
      new OperationFailedError(
        `refreshing the clone's identity failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`,
        {
          hint:
            r.exitCode === 70
              ? "the image's /etc/vms/clone-refresh hook failed"
              : 'the refresh needs a POSIX shell and base64 in the guest (see REFRESH_SCRIPT in @vms/qemu)',
        },
      ),
    );
  }
  const server = /vms-refreshed (\w+)/.exec(r.stdout)?.[1];
  return server === 'dropbear' || server === 'sshd' ? [key.publicKey] : [...templateKeys];
}

export async function removeTemplateDir(paths: TemplatePaths): Promise<void> {
  await rm(paths.dir, { recursive: true, force: true });
}

/** For errors: the size of a saved state in MiB. */
export function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}
