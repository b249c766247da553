#!/usr/bin/env node
// The floor of P3: what any Node program pays to run `true` in a container through the engine
// API, with nothing of @vms loaded. `node exec-floor.mjs NAME`: the same five requests `vms exec`
// and `docker exec` send (ping, inspect, exec create, exec start on a hijacked connection, exec
// inspect), over node:http and the default socket, written as plainly as a hand-rolled script
// would, but for one thing a plain script would not know: `node:http` is taken as Node's own
// module, not through an ES module import, whose namespace on Node 22 and later reads the lazy
// exports and loads undici and tls (~20 ms). Exits with the command's exit code.
const http = process.getBuiltinModule('node:http');

const socketPath = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(
  /^unix:\/\//,
  '',
);
const name = process.argv[2];

function request(method, path, body, upgrade = false) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const req = http.request({
      socketPath,
      method,
      path,
      headers: {
        Host: 'docker',
        ...(payload ? { 'Content-Type': 'application/json' } : {}),
        'Content-Length': Buffer.byteLength(payload),
        ...(upgrade ? { Connection: 'Upgrade', Upgrade: 'tcp' } : {}),
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.resume();
      socket.on('end', () => resolve(''));
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode >= 400 ? reject(new Error(text)) : resolve(text)));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

await request('HEAD', '/_ping');
const v = '/v1.41';
const container = JSON.parse(await request('GET', `${v}/containers/${name}/json`));
if (!container.State.Running) throw new Error(`${name} is not running`);
const { Id } = JSON.parse(
  await request('POST', `${v}/containers/${name}/exec`, {
    Cmd: ['true'],
    AttachStdout: true,
    AttachStderr: true,
  }),
);
await request('POST', `${v}/exec/${Id}/start`, { Detach: false, Tty: false }, true);
process.exitCode = JSON.parse(await request('GET', `${v}/exec/${Id}/json`)).ExitCode;
