/** `vms ui` as a user runs it: start it, open the printed URL, fetch the page, press Ctrl-C. Not shipped. */
import { request } from 'node:http';
import { type Project, runVms } from './project.js';

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Runs `vms ui ARGS`, waits for its URL, probes the page, then interrupts it (SIGINT). */
export async function serveAndProbe(project: Project, args: string[] = []) {
  let probe: { login: number; page: number; html: string; script: number } | undefined;
  let url: URL | undefined;
  let failure: unknown;
  const result = await runVms(project, ['ui', ...args], {
    timeoutMs: 60_000,
    onSpawn: (child) => {
      let out = '';
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        const m = /vms ui: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
        if (!m?.[1] || probe || failure) return;
        url = new URL(m[1]);
        const served = url;
        (async () => {
          const login = await get(served.href);
          const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
          const page = await get(`${served.origin}/`, { Cookie: cookie });
          const script = await get(`${served.origin}/app.js`, { Cookie: cookie });
          probe = {
            login: login.status,
            page: page.status,
            html: page.body,
            script: script.status,
          };
        })()
          .catch((error: unknown) => {
            failure = error;
          })
          .finally(() => child.kill('SIGINT'));
      });
    },
  });
  if (failure) throw failure;
  return { result, probe, url };
}
