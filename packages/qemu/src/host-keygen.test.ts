import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newHostKey } from './host-keygen.js';

describe('newHostKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vq-hostkey-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an OpenSSH private key that ssh-keygen reads back to the same public key', () => {
    const key = newHostKey('test');
    const file = join(dir, 'k');
    writeFileSync(file, key.openssh, { mode: 0o600 });
    const pub = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    expect(pub.split(' ').slice(0, 2).join(' ')).toBe(key.publicKey);
  });

  it("writes dropbear's format: the key type, then seed and public key (64 bytes)", () => {
    const key = newHostKey();
    expect(key.dropbear.length).toBe(4 + 11 + 4 + 64);
    expect(key.dropbear.subarray(4, 15).toString()).toBe('ssh-ed25519');
    expect(key.dropbear.readUInt32BE(15)).toBe(64);
    const pub = Buffer.from(key.publicKey.split(' ')[1]!, 'base64').subarray(-32);
    expect(key.dropbear.subarray(51)).toEqual(pub);
  });

  it('makes a different key every time', () => {
    expect(newHostKey().publicKey).not.toBe(newHostKey().publicKey);
  });
});
