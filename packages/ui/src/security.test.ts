/**
 * The gate, over real HTTP and WebSocket connections to a running dashboard (core's mock
 * backend stands in for an engine: these tests are about who may talk to the server): a wrong
 * or missing token, a foreign Origin and a rebound Host name are refused on every route, the
 * WebSocket upgrade included, a refused action changes nothing, and no CORS header is sent.
 */
import { request } from 'node:http';
import { createInstance } from '@vms/core';
import { createMockBackend } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startUi, type UiServer } from './server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  ui: UiServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ui.port,
        method,
        path,
        headers: { Host: `127.0.0.1:${ui.port}`, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          // Event streams never end: the first bytes are enough.
          if (String(res.headers['content-type']).startsWith('text/event-stream')) res.destroy();
        });
        res.on('close', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function upgrade(ui: UiServer, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${ui.port}/api/instances/mock%3Aweb/terminal`, {
      headers,
    });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', () => resolve(0));
  });
}

describe('the dashboard gate', () => {
  const backend = createMockBackend();
  let ui: UiServer;
  let cookie: string;
  let origin: string;

  beforeAll(async () => {
    const vm = createInstance(backend, 'web', {});
    await vm.create();
    await vm.start();
    ui = await startUi({ backends: [backend] });
    await ui.ready;
    origin = ui.origin;
    const login = await send(ui, 'GET', `/?token=${ui.token}`);
    expect(login.status).toBe(303);
    cookie = String(login.headers['set-cookie']).split(';')[0] as string;
  });
  afterAll(() => ui?.close());

  it('prints a loopback URL with a long random token, and sets an HttpOnly SameSite=Strict cookie', async () => {
    expect(ui.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${ui.port}/\\?token=[\\w-]{32}$`));
    const login = await send(ui, 'GET', `/?token=${ui.token}`);
    expect(login.headers.location).toBe('/');
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
    const page = await send(ui, 'GET', '/', { Cookie: cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js">');
  });

  it('refuses a wrong token in the URL, a wrong cookie and no session, on the page and the API', async () => {
    expect((await send(ui, 'GET', '/?token=wrong-token-of-some-length')).status).toBe(401);
    expect((await send(ui, 'GET', '/', { Cookie: `vms_ui_${ui.port}=nope` })).status).toBe(401);
    for (const path of ['/', '/app.js', '/api/state', '/api/events', '/api/backends/mock/schema']) {
      const r = await send(ui, 'GET', path);
      expect(r.status, path).toBe(401);
      expect(r.body, path).not.toContain('mock:web');
    }
    const wrongBearer = await send(ui, 'GET', '/api/state', {
      Authorization: 'Bearer x'.repeat(4),
    });
    expect(wrongBearer.status).toBe(401);
    const bearer = await send(ui, 'GET', '/api/state', { Authorization: `Bearer ${ui.token}` });
    expect(bearer.status).toBe(200);
    expect(bearer.body).toContain('mock:web');
  });

  it('refuses a foreign Origin even with the right cookie, and the action does not happen', async () => {
    const stop = await send(
      ui,
      'POST',
      '/api/instances/mock%3Aweb/stop',
      { Cookie: cookie, Origin: 'http://evil.example', 'Content-Type': 'application/json' },
      '{}',
    );
    expect(stop.status).toBe(403);
    expect(stop.body).toContain('foreign Origin');
    // Another port of the same host is another origin too.
    const sibling = await send(ui, 'GET', '/api/state', {
      Cookie: cookie,
      Origin: `http://127.0.0.1:${ui.port + 1}`,
    });
    expect(sibling.status).toBe(403);
    expect(backend.world.get('web')?.state).toBe('running');
  });

  it('refuses a POST without an Origin (not sent by this page)', async () => {
    const r = await send(
      ui,
      'POST',
      '/api/instances/mock%3Aweb/stop',
      { Cookie: cookie, 'Content-Type': 'application/json' },
      '{}',
    );
    expect(r.status).toBe(403);
    expect(backend.world.get('web')?.state).toBe('running');
  });

  it('refuses a rebound Host name (DNS rebinding), even with the right cookie', async () => {
    for (const host of [`evil.example:${ui.port}`, 'localhost', `127.0.0.1:${ui.port + 1}`]) {
      const r = await send(ui, 'GET', '/api/state', { Cookie: cookie, Host: host });
      expect(r.status, host).toBe(421);
    }
    expect(
      (await send(ui, 'GET', '/api/state', { Cookie: cookie, Host: `localhost:${ui.port}` }))
        .status,
    ).toBe(200);
  });

  it('checks the WebSocket upgrade too: foreign Origin, no Origin, wrong token, wrong Host', async () => {
    const good = { Cookie: cookie, Origin: origin, Host: `127.0.0.1:${ui.port}` };
    expect(await upgrade(ui, { ...good, Origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(ui, { Cookie: cookie, Host: good.Host })).toBe(403);
    expect(await upgrade(ui, { ...good, Cookie: `vms_ui_${ui.port}=wrong` })).toBe(401);
    expect(await upgrade(ui, { ...good, Host: `evil.example:${ui.port}` })).toBe(421);
    expect(await upgrade(ui, good)).toBe('open');
  });

  it('sends no CORS headers, and answers a preflight with a refusal', async () => {
    const pre = await send(ui, 'OPTIONS', '/api/instances/mock%3Aweb/stop', {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      Cookie: cookie,
    });
    expect(pre.status).toBe(405);
    const state = await send(ui, 'GET', '/api/state', { Cookie: cookie, Origin: origin });
    for (const r of [pre, state]) {
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('allows the page’s own actions (same Origin, session cookie) through core', async () => {
    const r = await send(
      ui,
      'POST',
      '/api/instances/mock%3Aweb/stop',
      { Cookie: cookie, Origin: origin, 'Content-Type': 'application/json' },
      '{"force":true}',
    );
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ ok: true, result: { how: 'forced' } });
    expect(backend.world.get('web')?.state).toBe('stopped');
  });

  it('validates what the page sends: a typed error naming the field, and nothing is created', async () => {
    const post = (body: unknown) =>
      send(
        ui,
        'POST',
        '/api/instances',
        { Cookie: cookie, Origin: origin, 'Content-Type': 'application/json' },
        JSON.stringify(body),
      );
    const badName = await post({ backend: 'mock', name: 'no spaces allowed' });
    expect(badName.status).toBe(400);
    expect(JSON.parse(badName.body).error).toMatchObject({
      code: 'INVALID_OPTIONS',
      issues: [{ path: 'name' }],
    });
    const extra = await post({ backend: 'mock', name: 'ok', surprise: true });
    expect(extra.status).toBe(400);
    const options = await post({ backend: 'mock', name: 'ok', options: ['not', 'an', 'object'] });
    expect(JSON.parse(options.body).error).toMatchObject({
      code: 'INVALID_OPTIONS',
      issues: [{ path: 'options' }],
    });
    const unknown = await post({ backend: 'nope', name: 'ok' });
    expect(unknown.status).toBe(404);
    expect(backend.world.has('ok')).toBe(false);
  });
});
