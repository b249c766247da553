/**
 * Identifiers, without loading `node:crypto` at import: commands that never need a random id
 * (a one-shot `vms exec` over the engine API) never pay for that module.
 */

/** `bytes` random bytes from node:crypto, as hex (for ids that must not be guessable or collide across hosts). */
export function randomHex(bytes: number): string {
  return process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');
}

let counter = 0;

/**
 * An id unique on this host for as long as this process lives and well beyond (pid, time, a
 * counter and Math.random): for markers that only need to be told apart, not kept secret.
 */
export function uniqueToken(): string {
  counter = (counter + 1) % 0x100000;
  const random = Math.floor(Math.random() * 2 ** 48).toString(36);
  return `${process.pid.toString(36)}${Date.now().toString(36)}${counter.toString(36)}${random}`;
}
