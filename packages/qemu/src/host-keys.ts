/**
 * Where the guest's SSH host key comes from before it is pinned in the instance's known_hosts
 * (every connection then runs with StrictHostKeyChecking=yes against that file):
 *
 * - `console`: the `-----BEGIN SSH HOST KEY KEYS-----` block the guest prints on its serial
 *   console (cloud-init does; so does the project's test guest). Out of band, so nothing on the
 *   network is trusted.
 * - `scan`: `ssh-keyscan` over the instance's own 127.0.0.1 forward once the SSH server answers,
 *   for images that print no keys (stock LinuxKit `linuxkit/sshd`). This trusts the first key
 *   seen, once per boot: the port is on loopback, picked by us and bound by the QEMU we just
 *   launched (QEMU refuses to start when the port is taken), and QEMU's user network hands the
 *   connection straight to the guest, so the only party that can answer is the VM itself.
 * - `{ publicKeys }`: keys you know in advance (e.g. baked into your image).
 */
import { type ProcessRunner, VmsError } from '@vms/core';
import * as z from '@vms/core/zod';

/** `type base64 [comment]`, as in a `.pub` file. */
const PUBLIC_KEY =
  /^\s*((?:ssh|ecdsa-sha2|sk-ssh|sk-ecdsa-sha2)-[\w@.-]+)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$/;

export const hostKeySchema = z.union([
  z.enum(['console', 'scan']),
  z
    .object({
      /** The guest's host public keys, `type base64 [comment]` each (a `.pub` file's line). */
      publicKeys: z
        .array(z.string().trim().regex(PUBLIC_KEY, 'must be an SSH public key: "type base64"'))
        .min(1),
    })
    .strict(),
]);
export type HostKeySource = z.output<typeof hostKeySchema>;

/** `type base64` of a public key line (comment dropped); undefined when it is not one. */
export function normalizeKey(line: string): string | undefined {
  const m = PUBLIC_KEY.exec(line.trim());
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** The host keys in `ssh-keyscan` output (`[host]:port type base64` lines); undefined if none. */
export function parseKeyscan(stdout: string): string[] | undefined {
  const keys = stdout
    .split(/\r?\n/)
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => normalizeKey(l.trim().split(/\s+/).slice(1).join(' ')))
    .filter((k): k is string => k !== undefined);
  return keys.length > 0 ? keys : undefined;
}

/** known_hosts text pinning `keys` under `alias` (connections use HostKeyAlias=alias). */
export function knownHostsText(alias: string, keys: readonly string[]): string {
  return keys.map((k) => `${alias} ${k}\n`).join('');
}

/**
 * One `ssh-keyscan` round against 127.0.0.1:port: the ed25519 key on one connection, else every
 * type ssh-keyscan knows (one connection each: small servers such as dropbear stall extra
 * unauthenticated connections from one address, hence not all types at once). Resolves the keys,
 * or undefined when the server did not answer (refused, reset, or silent for 5 s).
 */
export async function scanHostKeys(
  runner: ProcessRunner,
  port: number,
  signal: AbortSignal,
): Promise<string[] | undefined> {
  const scan = async (types: string[]) => {
    try {
      const r = await runner.run(
        ['ssh-keyscan', '-T', '5', ...types, '-p', String(port), '127.0.0.1'],
        { signal, timeoutMs: 15_000, okExitCodes: 'any', killGraceMs: 200 },
      );
      return parseKeyscan(r.stdout);
    } catch (error) {
      if (VmsError.hasCode(error, 'TIMEOUT')) return undefined;
      throw error;
    }
  };
  return (await scan(['-t', 'ed25519'])) ?? (await scan([]));
}
