import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { followFile, lineWith, parseHostKeys, waitForConsole } from './console.js';

const dir = mkdtempSync(join(tmpdir(), 'vq-console-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAILR5fN+PfK58Z5enzPacsjoA8rl3tV3U6QfI58sb2Xuy';

describe('serial console', () => {
  it('parses the last host-key block (cloud-init format, CRLF tolerated)', () => {
    const text = [
      'boot 1',
      '-----BEGIN SSH HOST KEY KEYS-----',
      'ssh-ed25519 OLDKEY root@a',
      '-----END SSH HOST KEY KEYS-----',
      '-----BEGIN SSH HOST KEY KEYS-----\r',
      `ecdsa-sha2-nistp256 ${KEY}= root@b\r`,
      `ssh-ed25519 ${KEY} root@b\r`,
      '-----END SSH HOST KEY KEYS-----\r',
    ].join('\n');
    expect(parseHostKeys(text)).toEqual([`ecdsa-sha2-nistp256 ${KEY}=`, `ssh-ed25519 ${KEY}`]);
    expect(parseHostKeys('-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 X')).toBeUndefined();
  });

  it('wakes on the line being written, ignoring content before the offset', async () => {
    const log = join(dir, 'a.log');
    writeFileSync(log, 'GUEST-READY from an earlier boot\n');
    const offset = 33;
    const seen = waitForConsole(log, offset, lineWith('GUEST-READY'), {
      signal: AbortSignal.timeout(20_000),
      deadline: Date.now() + 20_000,
      description: 'marker',
      pollMs: 60_000, // only the file watch can wake it in time
    });
    appendFileSync(log, 'booting\n');
    appendFileSync(log, 'GUEST-READY uptime=1\n');
    expect(await seen).toBe('GUEST-READY uptime=1');
  });

  it('ends the wait when the VM dies, and at the deadline', async () => {
    const log = join(dir, 'b.log');
    writeFileSync(log, '');
    await expect(
      waitForConsole(log, 0, lineWith('never'), {
        signal: AbortSignal.timeout(20_000),
        deadline: Date.now() + 20_000,
        description: 'marker',
        dead: () => 'QEMU exited',
        pollMs: 20,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED', message: /QEMU exited/ });
    await expect(
      waitForConsole(log, 0, lineWith('never'), {
        signal: AbortSignal.timeout(20_000),
        deadline: Date.now() + 100,
        description: 'marker',
      }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('follows appended output until aborted', async () => {
    const log = join(dir, 'c.log');
    writeFileSync(log, 'one\n');
    const ac = new AbortController();
    let got = '';
    const done = followFile(
      log,
      0,
      (c) => {
        got += c.toString();
        if (got.includes('two')) ac.abort();
      },
      ac.signal,
    );
    appendFileSync(log, 'two\n');
    await done;
    expect(got).toBe('one\ntwo\n');
  });
});
