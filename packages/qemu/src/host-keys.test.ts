import { parseOptions } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { parseHostKeys } from './console.js';
import { hostKeySchema, knownHostsText, normalizeKey, parseKeyscan } from './host-keys.js';
import { qemuOptionsSchema } from './options.js';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh0c3RrZXlob3N0a2V5aG9zdGtleWhvc3RrZXlob3N0';
const EC = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=';

describe('host key sources', () => {
  it('parses ssh-keyscan output for a non-22 port, skipping comments', () => {
    const out = `# 127.0.0.1:40022 SSH-2.0-dropbear_2022.83\n[127.0.0.1]:40022 ${ED}\n[127.0.0.1]:40022 ${EC}\n`;
    expect(parseKeyscan(out)).toEqual([ED, EC]);
    expect(parseKeyscan('# 127.0.0.1:40022 SSH-2.0-x\n')).toBeUndefined();
    expect(parseKeyscan('')).toBeUndefined();
  });

  it('pins every key under the alias, one known_hosts line each', () => {
    expect(knownHostsText('vms-a', [ED, EC])).toBe(`vms-a ${ED}\nvms-a ${EC}\n`);
  });

  it('drops the comment of a .pub line and rejects what is not a key', () => {
    expect(normalizeKey(`${ED} root@guest`)).toBe(ED);
    expect(normalizeKey('not a key')).toBeUndefined();
  });

  it('reads the console block with the same key syntax', () => {
    const text = `boot\n-----BEGIN SSH HOST KEY KEYS-----\n${ED} root@x\n-----END SSH HOST KEY KEYS-----\n`;
    expect(parseHostKeys(text)).toEqual([ED]);
  });

  it("defaults to 'console'; accepts 'scan' and public keys; names the bad field", () => {
    expect(hostKeySchema.parse('scan')).toBe('scan');
    expect(hostKeySchema.parse({ publicKeys: [`${ED} c\n`] })).toEqual({ publicKeys: [`${ED} c`] });
    const kernel = process.execPath;
    expect(parseOptions(qemuOptionsSchema, { kernel })).toMatchObject({
      hostKey: 'console',
      readiness: 'ssh',
    });
    expect(() =>
      parseOptions(qemuOptionsSchema, { kernel, hostKey: { publicKeys: ['nope'] } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'hostKey.publicKeys.0' }));
    expect(() => parseOptions(qemuOptionsSchema, { kernel, readiness: 'later' })).toThrow(
      expect.objectContaining({ field: 'readiness' }),
    );
  });
});
