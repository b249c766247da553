import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunner } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import { metaData, userData, writeSeedIso } from './seed.js';
import { findTool } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'vq-seed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const isoTool = ['genisoimage', 'xorriso', 'mkisofs'].find((t) => findTool(t));
if (!isoTool)
  console.warn(
    '[qemu tests] skipping seed ISO test: no genisoimage/xorriso (run scripts/ci/qemu.sh)',
  );

const seed = {
  instanceId: 'iid-1',
  hostname: 'web-1',
  sshAuthorizedKeys: ['ssh-ed25519 AAAAkey1 me@host', 'ssh-ed25519 AAAAkey2'],
  cloudConfig: '#cloud-config\nruncmd:\n  - [touch, /x]\n',
};

describe('NoCloud seed', () => {
  it('writes meta-data and #cloud-config user-data with quoted keys', () => {
    expect(metaData(seed)).toBe('instance-id: "iid-1"\nlocal-hostname: "web-1"\n');
    expect(userData(seed)).toBe(
      '#cloud-config\nhostname: "web-1"\nssh_authorized_keys:\n  - "ssh-ed25519 AAAAkey1 me@host"\n  - "ssh-ed25519 AAAAkey2"\nruncmd:\n  - [touch, /x]\n',
    );
  });

  it.skipIf(!isoTool)('builds an ISO 9660 image labelled cidata holding both files', async () => {
    const iso = join(dir, 'seed.iso');
    await writeSeedIso(createRunner(), iso, seed, {
      signal: AbortSignal.timeout(30_000),
      deadline: Date.now() + 30_000,
    });
    const bytes = readFileSync(iso);
    // Primary volume descriptor at sector 16: "CD001", volume id at offset 40.
    expect(bytes.subarray(16 * 2048 + 1, 16 * 2048 + 6).toString()).toBe('CD001');
    expect(
      bytes
        .subarray(16 * 2048 + 40, 16 * 2048 + 72)
        .toString()
        .trim(),
    ).toBe('cidata');
    expect(bytes.includes(Buffer.from('local-hostname: "web-1"'))).toBe(true);
    expect(bytes.includes(Buffer.from('ssh-ed25519 AAAAkey2'))).toBe(true);
  });
});
