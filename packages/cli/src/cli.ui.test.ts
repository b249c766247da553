/**
 * `vms ui`: loads @vms/ui only for this command, serves the page at the printed URL (token →
 * session cookie) and stops cleanly on Ctrl-C (exit 130, as every command a signal ends); without @vms/ui it says how to install it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acceptsConnections,
  CLI_DIR,
  makeProject,
  type Project,
  runVms,
} from './test-support/project.js';
import { serveAndProbe } from './test-support/ui.js';

describe('vms ui', () => {
  const projects: Project[] = [];
  afterAll(() => {
    for (const p of projects) p.cleanup();
  });

  it('serves the dashboard at the printed URL and stops on Ctrl-C with exit 130 (interrupted), its port closed', async () => {
    const project = makeProject({ workspace: ['ui'] });
    projects.push(project);
    const { result, probe, url } = await serveAndProbe(project, ['--backend-timeout', '20s']);
    expect(probe).toMatchObject({ login: 303, page: 200, script: 200 });
    expect(probe?.html).toContain('<script type="module" src="/app.js">');
    expect(result.code).toBe(130);
    expect(url && (await acceptsConnections(url.href))).toBe(false);
  }, 90_000);

  it('without @vms/ui says how to install it (exit 2)', async () => {
    const project = makeProject();
    projects.push(project);
    const r = await runVms(project, ['ui']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('vms ui needs @vms/ui, which is not installed');
    expect(r.stderr).toContain('hint: npm install -g @vms/ui');
  });

  it('refuses a bad --host or --port before starting anything', async () => {
    const project = makeProject({ workspace: ['ui'] });
    projects.push(project);
    const host = await runVms(project, ['ui', '--host', 'evil.example']);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('invalid --host: must be an IP address or localhost');
    const port = await runVms(project, ['ui', '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('invalid --port');
  });

  it('keeps @vms/ui off every other command’s path: only `vms ui` imports it, at run time', () => {
    const dist = join(CLI_DIR, 'dist');
    const mentions = readdirSync(dist)
      .filter((f) => f.endsWith('.js'))
      .map((f) => ({ file: f, text: readFileSync(join(dist, f), 'utf8') }))
      .filter(({ text }) => /from\s*["']@vms\/ui["']|import\(\s*["']@vms\/ui["']\s*\)/.test(text));
    // One dynamic import() in the file of the backend commands; no static import anywhere.
    expect(mentions.map((m) => m.file)).toEqual(['backend-commands.js']);
    const text = mentions[0]?.text ?? '';
    expect(text).not.toMatch(/from\s*["']@vms\/ui["']/);
    expect(text.match(/import\(\s*["']@vms\/ui["']\s*\)/g)).toHaveLength(1);
  });
});
