/**
 * The dashboard in a real headless Chromium (Debian's, through playwright-core) against the
 * real docker engine and a real QEMU instance (the test guest): the page lists both, shows a
 * change another process makes within a second, runs a lifecycle from its buttons, follows
 * logs, runs a command in the terminal, and refuses a wrong token and a foreign Origin.
 * Screenshots land in test-artifacts/. Skipped, with the reason printed, when chromium, the
 * engine or the guest is missing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { TEST_SUITE_LABEL, testEngine } from '@vms/container-engine/testing';
import { createInstance, type Instance } from '@vms/core';
import { TEST_RUN_LABEL, testRunId } from '@vms/core/testing';
import { docker } from '@vms/docker';
import { createQemu } from '@vms/qemu';
import { loadTestGuest, testGuestSkipReason } from '@vms/qemu/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUi, type UiServer } from './server.js';
import {
  browserSkipReason,
  launchBrowser,
  screenshot,
  type TestBrowser,
} from './test-support/browser.js';

const run = `ui-${randomBytes(4).toString('hex')}`;
const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
const skip = browserSkipReason() ?? engine.unavailableReason() ?? testGuestSkipReason();
if (skip) console.warn(`[skipped] ui browser tests: ${skip}`);

const IMAGE = 'vms-test/busybox:latest';
const labels = { [TEST_RUN_LABEL]: testRunId(), [TEST_SUITE_LABEL]: run };
/** Prints a line, then whatever the test drops into /tmp/say, on the container's stdout. */
const LOGGER = [
  'sh',
  '-c',
  'trap "exit 0" TERM INT; echo first-line; while :; do if [ -f /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.1; done',
];

const dockerCli = promisify(execFile);
const row = (page: Page, id: string) => page.locator(`tr[data-id="${id}"]`);

describe.skipIf(Boolean(skip))('vms ui in a real browser', () => {
  const qemu = createQemu();
  let ui: UiServer;
  let browser: TestBrowser;
  let page: Page;
  let web: Instance;
  let vm: Instance;
  const names = { web: `${run}-web`, made: `${run}-made`, vm: `${run}-vm` };

  beforeAll(async () => {
    const guest = loadTestGuest();
    if (!guest) throw new Error('no test guest');
    web = createInstance(docker, names.web, { image: IMAGE, labels, command: LOGGER });
    vm = createInstance(qemu, names.vm, {
      kernel: guest.vmlinux,
      initrd: guest.initrd,
      cmdline: guest.cmdline,
      readyMarker: guest.marker,
      accel: 'tcg',
      memoryMiB: 256,
      cpus: 1,
      restrictNetwork: true,
    });
    await Promise.all([web.create().then(() => web.start()), vm.create()]);
    ui = await startUi({ backends: [docker, qemu] });
    await ui.ready;
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(ui.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    await Promise.allSettled([vm?.delete(), web?.delete()]);
    await engine.sweepTestSuite(run);
  }, 180_000);

  it('lists the real docker and qemu instances, each backend with how it is followed', async () => {
    await expect
      .poll(() => row(page, `docker:${names.web}`).getAttribute('data-state'))
      .toBe('running');
    await expect
      .poll(() => row(page, `qemu:${names.vm}`).getAttribute('data-state'))
      .toBe('stopped');
    await expect(page.locator('.chip[data-backend="docker"]').textContent()).resolves.toContain(
      'live: events',
    );
    await expect(page.locator('.chip[data-backend="qemu"]').textContent()).resolves.toContain(
      'live: poll',
    );
    await expect(row(page, `docker:${names.web}`).textContent()).resolves.toContain(IMAGE);
    await row(page, `docker:${names.web}`).click();
    await page.locator('[data-testid="timeline"]').waitFor();
    await screenshot(page, '01-list');
  });

  it('shows a change made by another process within a second (the engine’s event stream)', async () => {
    await row(page, `docker:${names.web}`).click();
    await dockerCli('docker', ['pause', names.web]);
    const paused = Date.now();
    await page.waitForSelector(`tr[data-id="docker:${names.web}"][data-state="suspended"]`, {
      timeout: 1000,
    });
    const seenAfterMs = Date.now() - paused;
    await dockerCli('docker', ['unpause', names.web]);
    const unpaused = Date.now();
    await page.waitForSelector(`tr[data-id="docker:${names.web}"][data-state="running"]`, {
      timeout: 1000,
    });
    console.log(
      `[ui] docker pause seen after ${seenAfterMs} ms, unpause after ${Date.now() - unpaused} ms`,
    );
    await expect(
      page.locator('[data-testid="transitions"] li[data-state="suspended"]').count(),
    ).resolves.toBe(1);
    await screenshot(page, '02-another-process');
  });

  it('follows the logs: a line written after the view opened appears', async () => {
    await row(page, `docker:${names.web}`).click();
    await page.locator('button[data-tab="logs"]').click();
    const log = page.locator('[data-testid="log"]');
    await expect.poll(() => log.textContent(), { timeout: 15_000 }).toContain('first-line');
    const marker = `later-line-${randomBytes(3).toString('hex')}`;
    await dockerCli('docker', ['exec', names.web, 'sh', '-c', `echo ${marker} > /tmp/say`]);
    await expect.poll(() => log.textContent(), { timeout: 15_000 }).toContain(marker);
    await screenshot(page, '03-logs');
  });

  it('runs a command in the terminal, inside the container, with a TTY', async () => {
    await row(page, `docker:${names.web}`).click();
    await page.locator('button[data-tab="terminal"]').click();
    await expect
      .poll(() => page.locator('[data-testid="terminal-status"]').textContent(), {
        timeout: 15_000,
      })
      .toContain('connected');
    await page.locator('[data-testid="terminal"]').click();
    await page.keyboard.type('echo $((6*7))-from-$(hostname); [ -t 0 ] && echo has-a-tty\n');
    const hostname = (
      await dockerCli('docker', ['inspect', '-f', '{{.Config.Hostname}}', names.web])
    ).stdout.trim();
    const screen = page.locator('[data-testid="terminal"] .xterm-rows');
    await expect
      .poll(() => screen.textContent(), { timeout: 15_000 })
      .toContain(`42-from-${hostname}`);
    await expect(screen.textContent()).resolves.toContain('has-a-tty');
    await screenshot(page, '04-terminal');
    await page.keyboard.type('exit\n');
    await expect
      .poll(() => page.locator('[data-testid="terminal-status"]').textContent(), {
        timeout: 15_000,
      })
      .toContain('exited with code 0');
  });

  it('runs a lifecycle from the buttons: create (form) → stop → start → suspend → resume → snapshot → delete', async () => {
    const id = `docker:${names.made}`;
    await page.locator('[data-testid="new-instance"]').click();
    const form = page.locator('[data-testid="create-form"]');
    await form.locator('select[name="backend"]').selectOption('docker');
    await form.locator('input[name="name"]').fill(names.made);
    await form.locator('input[name="opt-image"]').fill(IMAGE);
    await form.locator('button.link').click(); // all options
    await form
      .locator('textarea[name="opt-labels"]')
      .fill(`${TEST_RUN_LABEL}=${testRunId()}\n${TEST_SUITE_LABEL}=${run}`);
    await screenshot(page, '05-create-form');
    await form.locator('button[data-action="create"]').click();
    await page.waitForSelector(`tr[data-id="${id}"][data-state="running"]`, { timeout: 60_000 });
    expect(
      (await dockerCli('docker', ['inspect', '-f', '{{.State.Status}}', names.made])).stdout.trim(),
    ).toBe('running');

    const detail = page.locator(`[data-testid="detail"][data-id="${id}"]`);
    const press = async (action: string, state: string) => {
      await detail.locator(`button[data-action="${action}"]`).click();
      await page.waitForSelector(
        `[data-testid="detail"][data-id="${id}"] [data-testid="detail-state"]:text-is("${state}")`,
        { timeout: 60_000 },
      );
      await expect.poll(() => detail.locator(`button[data-action]`).first().isEnabled()).toBe(true);
    };
    await press('stop', 'stopped');
    expect(
      (await dockerCli('docker', ['inspect', '-f', '{{.State.Status}}', names.made])).stdout.trim(),
    ).toBe('exited');
    await press('start', 'running');
    await press('suspend', 'suspended');
    expect(
      (await dockerCli('docker', ['inspect', '-f', '{{.State.Status}}', names.made])).stdout.trim(),
    ).toBe('paused');
    await press('resume', 'running');
    await detail.locator('button[data-action="snapshot"]').click();
    await expect
      .poll(() => detail.locator('[data-testid="last-op"]').textContent(), { timeout: 60_000 })
      .toMatch(/snapshot done/);
    const images = (
      await dockerCli('docker', [
        'images',
        '-q',
        '--filter',
        `label=dev.vms.snapshot-of=${names.made}`,
      ])
    ).stdout.trim();
    expect(images).not.toBe('');
    // Transitions drawn with durations, latency percentiles from core's op events.
    const transitions = await detail.locator('[data-testid="transitions"] li').allTextContents();
    expect(transitions.join('\n')).toMatch(
      /resuming[\s\S]*suspended[\s\S]*suspending[\s\S]*running[\s\S]*starting[\s\S]*stopped/,
    );
    for (const op of ['create', 'start', 'stop', 'suspend', 'resume', 'snapshot'])
      await expect(
        page.locator(`[data-testid="latency"] tr[data-op="docker:${op}"]`).count(),
        op,
      ).resolves.toBe(1);
    await screenshot(page, '06-lifecycle');

    await detail.locator('button[data-action="delete"]').click();
    await page.locator('[data-testid="confirm-delete"]').waitFor();
    await screenshot(page, '07-confirm-delete');
    await page.locator('button[data-action="confirm-delete"]').click();
    await page.waitForSelector(`tr[data-id="${id}"][data-state="deleted"]`, { timeout: 60_000 });
    const left = await dockerCli('docker', ['ps', '-aq', '--filter', `name=^${names.made}$`]);
    expect(left.stdout.trim()).toBe('');
    if (images)
      await dockerCli('docker', ['rmi', '-f', ...images.split('\n')]).catch(() => undefined);
  }, 240_000);

  it('refuses a wrong token', async () => {
    const other = await browser.newPage();
    const response = await other.goto(`${ui.origin}/?token=${'x'.repeat(32)}`);
    expect(response?.status()).toBe(401);
    await expect(other.locator('body').textContent()).resolves.toContain('wrong token');
    await expect(other.locator('[data-testid="instances"]').count()).resolves.toBe(0);
    await screenshot(other, '08-wrong-token');
    await other.close();
  });

  it('refuses a foreign Origin: another site’s page cannot act or open a terminal, even with the cookie', async () => {
    // Another origin on the same host: the SameSite cookie *is* sent, so the Origin check is what refuses.
    const foreign: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>foreign</title><p>foreign page</p>');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const address = foreign.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const other = await browser.newPage();
    try {
      await other.goto(`http://127.0.0.1:${port}/`);
      const outcome = await other.evaluate(
        async ({ target, id }) => {
          const post = await fetch(`${target}/api/instances/${encodeURIComponent(id)}/stop`, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            body: '{}',
          }).then(
            () => 'sent',
            () => 'blocked',
          );
          const ws = await new Promise<string>((resolve) => {
            const socket = new WebSocket(
              `${target.replace('http', 'ws')}/api/instances/${encodeURIComponent(id)}/terminal`,
            );
            socket.onopen = () => resolve('open');
            socket.onerror = () => resolve('refused');
            socket.onclose = () => resolve('refused');
          });
          const read = await fetch(`${target}/api/state`, { credentials: 'include' }).then(
            (r) => r.text(),
            () => 'blocked',
          );
          return { post, ws, read };
        },
        { target: ui.origin, id: `docker:${names.web}` },
      );
      expect(outcome.ws).toBe('refused');
      expect(outcome.read).toBe('blocked'); // no CORS header: the browser hides the answer
      expect(
        (
          await dockerCli('docker', ['inspect', '-f', '{{.State.Status}}', names.web])
        ).stdout.trim(),
      ).toBe('running');
      await screenshot(other, '09-foreign-origin');
    } finally {
      await other.close();
      await new Promise<void>((resolve) => {
        foreign.close(() => resolve());
        foreign.closeAllConnections();
      });
    }
  });
});
