/**
 * A fresh ed25519 SSH host key, made on the host (native crypto: a millisecond) rather than in
 * a guest that may run emulated (TCG: most of a second), in the two private-key formats SSH
 * servers read: OpenSSH's (`openssh-key-v1`, unencrypted) and dropbear's.
 */

export interface HostKey {
  /** `ssh-ed25519 BASE64`, as pinned in known_hosts. */
  publicKey: string;
  /** OpenSSH private key file (PEM-like text). */
  openssh: string;
  /** dropbear private key file (binary). */
  dropbear: Buffer;
}

const TYPE = 'ssh-ed25519';

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function newHostKey(comment = 'vms'): HostKey {
  const crypto = process.getBuiltinModule('node:crypto');
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const pub = Buffer.from(jwk.x ?? '', 'base64url');
  const publicBlob = Buffer.concat([sshString(TYPE), sshString(pub)]);
  const check = crypto.randomBytes(4).readUInt32BE();
  let section = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g) ?? [];
  return {
    publicKey: `${TYPE} ${publicBlob.toString('base64')}`,
    openssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    dropbear: Buffer.concat([sshString(TYPE), sshString(Buffer.concat([seed, pub]))]),
  };
}
