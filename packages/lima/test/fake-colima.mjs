#!/usr/bin/env node
/**
 * fake-colima: a stand-in for `colima` on hosts that cannot run it, built from abiosoft/colima's
 * source (v0.6.10, v0.7.6 and v0.8.1–v0.8.4; faults.version picks one, default 0.8.4).
 *
 * Like the real tool it drives Lima: every VM operation is a `limactl` call (fake-limactl on
 * PATH) with LIMA_HOME=<colima home>/_lima, the VM of profile P is the Lima instance `colima`
 * (profile `default`) or `colima-P`, and `list` is `limactl list --json` filtered to those and
 * renamed. What it reproduces from the source:
 * - cobra flags and the profile rule of cmd/root/root.go: `--profile/-p`, else the first argument
 *   of start/stop/restart/delete/status/version (and `list` since 0.8.2);
 * - version differences: `--cpu` (≤ 0.8.1) vs `--cpus` (0.8.2+, `--cpu` hidden), integer
 *   `--memory` (< 0.8.1) vs float, `status --json` (0.8.1+; `omitempty` and the containerd,
 *   buildkitd, incus sockets from 0.8.3, whose text output also says `docker socket:` instead of
 *   `socket:`), `list [profile]` (0.8.2+), runtimes incus and none (0.7.0+), `--save-config`
 *   (0.7.4+), `ssh --layer` (< 0.7.0);
 * - `--vm-type`, `--network-address` and `--vz-rosetta` exist only on macOS hosts: here they are
 *   unknown flags, as on Linux;
 * - logrus text diagnostics on stderr (`time="…" level=info msg="…" context=vm`), failures as one
 *   `level=fatal` line and exit 1; `colima ssh` turns the remote command's exit code N into
 *   `level=fatal msg="exit status N"` and exit 1, as app.SSH does;
 * - `start` creates (limactl start --tty=false <conf.yaml>) or resumes (limactl start NAME) and
 *   "provisions" the runtime; with runtime docker the Lima config forwards the guest's
 *   /var/run/docker.sock to <colima home>/<profile>/docker.sock (the fake guest shares this
 *   host's filesystem, so the host agent relays to faults.guestDockerSocket or the host's own
 *   /var/run/docker.sock); `stop` stops the runtime, then `limactl stop [--force]`; `delete`
 *   prompts unless `--force`, runs `limactl delete --force` and removes the profile directory.
 * The guest user's home (the fallback working directory of `ssh`) is the instance's `root/`.
 *
 * Test plumbing in <colima home>/_fake/: calls.jsonl and faults.json, read at every invocation:
 *   { "version": "0.8.4", "hang": ["start"], "fail": { "start": { "msg": "…" } },
 *     "malformed": ["list", "status"], "guestDockerSocket": "/path/docker.sock",
 *     "noLima": true }                              `lima` is missing: the dependency check fails
 * Lima-level faults (bootDelayMs, bootFail, driverDiesAfterMs, ignoreSigint) go to fake-limactl's
 * own faults.json in <colima home>/_lima/_fake/.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFlags as cobraFlags } from './cobra-flags.mjs';

const argv = process.argv.slice(2);

// ---------------------------------------------------------------- directories (config/files.go)

function baseDir() {
  const home = process.env.COLIMA_HOME;
  if (home && fs.existsSync(home)) return home;
  const dotColima = path.join(os.homedir(), '.colima');
  if (fs.existsSync(dotColima)) return dotColima;
  if (process.env.XDG_CONFIG_HOME) return path.join(process.env.XDG_CONFIG_HOME, 'colima');
  return path.join(os.homedir(), '.config', 'colima');
}

const BASE = baseDir();
const FAKE = path.join(BASE, '_fake');
const LIMA_HOME = process.env.LIMA_HOME || path.join(BASE, '_lima');
fs.mkdirSync(FAKE, { recursive: true });
fs.appendFileSync(path.join(FAKE, 'calls.jsonl'), `${JSON.stringify({ argv })}\n`);
const FAULTS = readJson(path.join(FAKE, 'faults.json')) ?? {};
const VERSION = FAULTS.version ?? '0.8.4';
const since = (v) => cmpVersion(VERSION, v) >= 0;

class Fatal extends Error {}

// ---------------------------------------------------------------- logrus text formatter

const QUIET = /^[A-Za-z0-9\-._/@^+]+$/;
function log(level, msg, fields = {}) {
  const value = (v) => (QUIET.test(String(v)) ? String(v) : JSON.stringify(String(v)));
  const extra = Object.keys(fields)
    .sort()
    .map((k) => ` ${k}=${value(fields[k])}`)
    .join('');
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  process.stderr.write(`time="${time}" level=${level} msg=${value(msg)}${extra}\n`);
}

// ---------------------------------------------------------------- profiles (config/profile.go)

function profileFromName(name) {
  if (!name || name === 'colima' || name === 'default') {
    return { id: 'colima', display: 'colima', short: 'default' };
  }
  const short = name.replace(/^colima-/, '');
  return { id: `colima-${short}`, display: `colima [profile=${short}]`, short };
}

const configDir = (p) => path.join(BASE, p.short);
const limaDir = (p) => path.join(LIMA_HOME, p.id);
const stateFile = (p) => path.join(limaDir(p), 'colima.yaml');
const dockerSocket = (p) => path.join(configDir(p), 'docker.sock');

// ---------------------------------------------------------------- flags (cobra/pflag)

const GLOBAL = {
  '--profile': { type: 'string', name: 'profile' },
  '-p': { type: 'string', name: 'profile' },
  '--verbose': { type: 'bool', name: 'verbose' },
  '-v': { type: 'bool', name: 'verbose' },
  '--very-verbose': { type: 'bool', name: 'very-verbose' },
  '--help': { type: 'bool', name: 'help' },
  '-h': { type: 'bool', name: 'help' },
};

function startFlags() {
  const f = {
    '--runtime': { type: 'string', name: 'runtime' },
    '-r': { type: 'string', name: 'runtime' },
    '--activate': { type: 'bool', name: 'activate' },
    '--cpu-type': { type: 'string', name: 'cpu-type' },
    '--memory': { type: 'string', name: 'memory' },
    '-m': { type: 'string', name: 'memory' },
    '--disk': { type: 'string', name: 'disk' },
    '-d': { type: 'string', name: 'disk' },
    '--arch': { type: 'string', name: 'arch' },
    '-a': { type: 'string', name: 'arch' },
    '--foreground': { type: 'bool', name: 'foreground' },
    '-f': { type: 'bool', name: 'foreground' },
    '--hostname': { type: 'string', name: 'hostname' },
    '--edit': { type: 'bool', name: 'edit' },
    '-e': { type: 'bool', name: 'edit' },
    '--editor': { type: 'string', name: 'editor' },
    '--mount': { type: 'multi', name: 'mount' },
    '-V': { type: 'multi', name: 'mount' },
    '--mount-type': { type: 'string', name: 'mount-type' },
    '--mount-inotify': { type: 'bool', name: 'mount-inotify' },
    '--ssh-agent': { type: 'bool', name: 'ssh-agent' },
    '-s': { type: 'bool', name: 'ssh-agent' },
    '--ssh-config': { type: 'bool', name: 'ssh-config' },
    '--ssh-port': { type: 'string', name: 'ssh-port' },
    '--kubernetes': { type: 'bool', name: 'kubernetes' },
    '-k': { type: 'bool', name: 'kubernetes' },
    '--kubernetes-version': { type: 'string', name: 'kubernetes-version' },
    '--k3s-arg': { type: 'multi', name: 'k3s-arg' },
    '--env': { type: 'multi', name: 'env' },
    '--dns': { type: 'multi', name: 'dns' },
    '-n': { type: 'multi', name: 'dns' },
    '--dns-host': { type: 'multi', name: 'dns-host' },
  };
  if (since('0.8.2')) {
    f['--cpus'] = { type: 'string', name: 'cpus' };
    f['-c'] = { type: 'string', name: 'cpus' };
    f['--cpu'] = { type: 'string', name: 'cpu' }; // hidden, backward compatible
  } else {
    f['--cpu'] = { type: 'string', name: 'cpus' };
    f['-c'] = { type: 'string', name: 'cpus' };
  }
  if (since('0.7.4')) f['--save-config'] = { type: 'bool', name: 'save-config' };
  if (since('0.7.6')) f['--network-host-addresses'] = { type: 'bool', name: 'nha' };
  if (since('0.8.1')) {
    f['--disk-image'] = { type: 'string', name: 'disk-image' };
    f['-i'] = { type: 'string', name: 'disk-image' };
  }
  if (since('0.8.4')) {
    f['--template'] = { type: 'bool', name: 'template' };
    f['--binfmt'] = { type: 'bool', name: 'binfmt' };
  }
  // --vm-type, --vz-rosetta, --network-address, --nested-virtualization: macOS only.
  return f;
}

function parseFlags(args, spec) {
  return cobraFlags(args, spec, { fail: usage });
}

/** cobra prints the error and usage itself (errors are silenced only after flag parsing). */
function usage(message) {
  process.stderr.write(`Error: ${message}\nUsage:\n  colima ${COMMAND} [flags]\n\n`);
  return new Fatal(message);
}

// ---------------------------------------------------------------- limactl

function limactl(args, { inherit = false } = {}) {
  const env = { ...process.env, LIMA_HOME, LIMA_INSTANCE: PROFILE?.id ?? 'colima' };
  // host.Run: in a non-terminal, limactl's stdout and stderr both go to colima's stdout.
  if (inherit) return spawnSync('limactl', args, { env, stdio: ['ignore', 1, 1] });
  return spawnSync('limactl', args, { env, encoding: 'utf8' });
}

/** limautil.Instances: `limactl list --json`, colima's instances only, renamed to profiles. */
function instances(ids = []) {
  const r = limactl(['list', '--json', ...ids]);
  if (r.status !== 0) throw new Fatal(`error retrieving instances: exit status ${r.status}`);
  const out = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const i = JSON.parse(line);
    if (!i.name.startsWith('colima')) continue;
    const p = profileFromName(i.name);
    const info = {
      name: p.short,
      status: i.status,
      arch: i.arch,
      cpus: i.cpus,
      memory: i.memory,
      disk: i.disk,
    };
    if (i.status === 'Running') {
      const runtime = readJson(stateFile(p))?.runtime;
      if (runtime) info.runtime = runtime === 'none' ? 'none' : runtime;
    }
    out.push(info);
  }
  return out;
}

function instance(p) {
  if (!fs.existsSync(path.join(limaDir(p), 'lima.yaml'))) return undefined;
  const r = limactl(['list', '--json', p.id]);
  if (r.status !== 0 || !r.stdout.trim()) return undefined;
  return JSON.parse(r.stdout.trim().split('\n')[0]);
}

const running = (p) => instance(p)?.status === 'Running';

// ---------------------------------------------------------------- commands

const PROFILE_ARG = ['start', 'stop', 'restart', 'delete', 'status', 'version', 'ssh-config'];
if (since('0.8.2')) PROFILE_ARG.push('list');
const DEP_CHECKED = ['start', 'stop', 'restart', 'delete', 'status', 'ssh', 'exec', 'x'];
const COMMANDS = {
  start,
  stop,
  delete: del,
  status,
  list,
  ls: list,
  ssh,
  exec: ssh,
  x: ssh,
  version,
};
const FLAGS = {
  start: startFlags,
  stop: () => ({
    '--force': { type: 'bool', name: 'force' },
    '-f': { type: 'bool', name: 'force' },
  }),
  delete: () => ({
    '--force': { type: 'bool', name: 'force' },
    '-f': { type: 'bool', name: 'force' },
  }),
  status: () => ({
    '--extended': { type: 'bool', name: 'extended' },
    '-e': { type: 'bool', name: 'extended' },
    ...(since('0.8.1')
      ? { '--json': { type: 'bool', name: 'json' }, '-j': { type: 'bool', name: 'json' } }
      : {}),
  }),
  list: () => ({ '--json': { type: 'bool', name: 'json' }, '-j': { type: 'bool', name: 'json' } }),
  ssh: () =>
    since('0.7.0')
      ? {}
      : { '--layer': { type: 'bool', name: 'layer' }, '-l': { type: 'bool', name: 'layer' } },
  version: () => ({}),
};
const ALIAS = { ls: 'list', exec: 'ssh', x: 'ssh' };
const MAX_ARGS = {
  start: 1,
  stop: 1,
  delete: 1,
  status: 1,
  version: 1,
  list: since('0.8.2') ? 1 : 0,
};

let COMMAND = '';
let PROFILE;

async function main() {
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`colima version ${VERSION.startsWith('v') ? VERSION : `v${VERSION}`}\n`);
    return;
  }
  const cmd = argv[0];
  if (!cmd || !(cmd in COMMANDS)) {
    process.stderr.write(
      `Error: unknown command "${cmd ?? ''}" for "colima"\nRun 'colima --help' for usage.\n`,
    );
    throw new Fatal(`unknown command "${cmd ?? ''}" for "colima"`);
  }
  COMMAND = ALIAS[cmd] ?? cmd;
  const { flags, positional } = parseFlags(argv.slice(1), { ...GLOBAL, ...FLAGS[COMMAND]() });
  const max = MAX_ARGS[COMMAND];
  if (max !== undefined && positional.length > max) {
    throw usage(
      max === 0
        ? `unknown command "${positional[0]}" for "colima ${COMMAND}"`
        : `accepts at most ${max} arg(s), received ${positional.length}`,
    );
  }
  let name = '';
  if (PROFILE_ARG.includes(COMMAND) && positional.length > 0 && flags.profile === undefined)
    name = positional[0];
  if (flags.profile !== undefined) name = flags.profile;
  PROFILE = profileFromName(name);
  PROFILE.changed = name !== '';
  if ((FAULTS.hang ?? []).includes(COMMAND))
    await new Promise(() => setInterval(() => {}, 1 << 30));
  const fail = FAULTS.fail?.[COMMAND];
  if (fail) throw new Fatal(fail.msg ?? 'injected failure');
  if (DEP_CHECKED.includes(COMMAND) && (FAULTS.noLima || !onPath('lima'))) {
    throw new Fatal(
      "dependency check failed for VM: lima not found, run 'brew install lima' to install",
    );
  }
  await COMMANDS[COMMAND](flags, positional);
}

async function start(flags) {
  const p = PROFILE;
  if (running(p)) {
    log('warning', 'already running, ignoring');
    return;
  }
  const saved = readJson(path.join(configDir(p), 'colima.yaml')) ?? {};
  const conf = {
    runtime: flags.runtime ?? saved.runtime ?? 'docker',
    cpu: Number(flags.cpus ?? flags.cpu ?? saved.cpu ?? 2),
    memory: memoryFlag(flags.memory) ?? saved.memory ?? 2,
    disk: intFlag('disk', 'd', flags.disk) ?? saved.disk ?? 100,
    arch: flags.arch ?? saved.arch ?? (os.arch() === 'x64' ? 'x86_64' : 'aarch64'),
    vmType: saved.vmType ?? 'qemu',
    mountType: flags['mount-type'] ?? saved.mountType ?? 'sshfs',
    mounts: flags.mount ? flags.mount.map(mountFromFlag) : (saved.mounts ?? []),
    env: flags.env
      ? Object.fromEntries(flags.env.flatMap(csvFields).map((e) => e.split(/=(.*)/s, 2)))
      : (saved.env ?? {}),
    kubernetes: { enabled: flags.kubernetes ?? saved.kubernetes?.enabled ?? false },
    autoActivate: flags.activate ?? saved.autoActivate ?? true,
    sshConfig: flags['ssh-config'] ?? saved.sshConfig ?? true,
    network: { dns: flags.dns ?? saved.network?.dns ?? [] },
  };
  const runtimes = ['docker', 'containerd', ...(since('0.7.0') ? ['incus', 'none'] : [])];
  if (!['9p', 'sshfs'].includes(conf.mountType)) {
    throw new Fatal(`error in config: invalid mountType: '${conf.mountType}'`);
  }
  // Fixed after the first start (setFixedConfigs): arch, runtime, mount type.
  const fixed = readJson(stateFile(p));
  if (fixed) {
    for (const [key, label] of [
      ['arch', 'architecture'],
      ['runtime', 'runtime'],
      ['mountType', 'volume mount type'],
    ]) {
      if (fixed[key] && fixed[key] !== conf[key]) {
        log('warning', `'${label}' cannot be updated after initial setup, discarded`);
        conf[key] = fixed[key];
      }
    }
  }
  if (flags['save-config'] !== false) {
    fs.mkdirSync(configDir(p), { recursive: true });
    fs.writeFileSync(path.join(configDir(p), 'colima.yaml'), JSON.stringify(conf, null, 2));
  }
  log('info', `starting ${p.display}`);
  if (conf.runtime !== 'none') {
    if (!runtimes.includes(conf.runtime)) {
      throw new Fatal(
        `error initiating container runtime: unsupported container runtime '${conf.runtime}'`,
      );
    }
    log('info', `runtime: ${conf.runtime}${conf.kubernetes.enabled ? '+k3s' : ''}`);
  }
  const created = fs.existsSync(path.join(limaDir(p), 'lima.yaml'));
  const lima = {
    vmType: conf.vmType,
    arch: conf.arch,
    cpus: conf.cpu,
    memory: `${conf.memory}GiB`,
    disk: `${conf.disk}GiB`,
    mounts: conf.mounts.map((m) => ({
      location: m.location,
      ...(m.mountPoint ? { mountPoint: m.mountPoint } : {}),
      writable: m.writable,
    })),
    env: conf.env,
    portForwards:
      conf.runtime === 'docker'
        ? [
            {
              guestSocket: FAULTS.guestDockerSocket ?? '/var/run/docker.sock',
              hostSocket: dockerSocket(p),
            },
          ]
        : [],
  };
  let r;
  if (created) {
    log('info', 'starting ...', { context: 'vm' });
    r = limactl(['start', p.id], { inherit: true });
    if (r.status !== 0)
      throw new Fatal(`error starting vm: error at 'starting': exit status ${r.status}`);
  } else {
    log('info', 'creating and starting ...', { context: 'vm' });
    const confFile = path.join(os.tmpdir(), `${p.id}.yaml`);
    fs.writeFileSync(confFile, JSON.stringify(lima, null, 2));
    r = limactl(['start', '--tty=false', confFile], { inherit: true });
    fs.rmSync(confFile, { force: true });
    if (r.status !== 0)
      throw new Fatal(
        `error starting vm: error at 'creating and starting': exit status ${r.status}`,
      );
  }
  fs.mkdirSync(configDir(p), { recursive: true });
  if (conf.runtime !== 'none') {
    log('info', 'provisioning ...', { context: conf.runtime });
    log('info', 'starting ...', { context: conf.runtime });
  }
  fs.writeFileSync(stateFile(p), JSON.stringify(conf, null, 2));
  log('info', 'done');
}

function memoryFlag(value) {
  if (value === undefined) return undefined;
  if (since('0.8.1')) {
    const n = Number(value);
    if (!Number.isFinite(n))
      throw usage(
        `invalid argument "${value}" for "-m, --memory" flag: strconv.ParseFloat: parsing "${value}": invalid syntax`,
      );
    return n;
  }
  return intFlag('memory', 'm', value);
}

function intFlag(name, short, value) {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw usage(
      `invalid argument "${value}" for "-${short}, --${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`,
    );
  return Number(value);
}

/** cmd/start.go mountsFromFlag: `location[:mountPoint][:w]`. */
function mountFromFlag(text) {
  const parts = text.split(':', 3);
  const m = { location: parts[0], writable: false };
  if (parts.length > 1) {
    if (path.isAbsolute(parts[1])) m.mountPoint = parts[1];
    else if (parts[1] === 'w') m.writable = true;
  }
  if (parts.length > 2 && parts[2] === 'w') m.writable = true;
  return m;
}

async function stop(flags) {
  const p = PROFILE;
  log('info', `stopping ${p.display}`);
  const isRunning = running(p);
  if (isRunning && !flags.force) {
    const runtime = readJson(stateFile(p))?.runtime;
    if (runtime && runtime !== 'none') log('info', 'stopping ...', { context: runtime });
  }
  if (!isRunning && !flags.force) {
    log('info', 'not running', { context: 'vm' });
    return;
  }
  log('info', 'stopping ...', { context: 'vm' });
  const r = limactl(flags.force ? ['stop', '--force', p.id] : ['stop', p.id], { inherit: true });
  if (r.status !== 0)
    throw new Fatal(`error stopping vm: error at 'stopping': exit status ${r.status}`);
  log('info', 'done');
}

async function del(flags) {
  const p = PROFILE;
  if (!flags.force) {
    if (!prompt(`are you sure you want to delete ${p.display} and all settings`)) return;
    if (
      since('0.7.6') &&
      !prompt(
        '\x1b[31m\x1b[1mthis will delete ALL container data. Are you sure you want to continue',
      )
    )
      return;
  }
  log('info', `deleting ${p.display}`);
  if (running(p)) {
    const runtime = readJson(stateFile(p))?.runtime;
    if (runtime && runtime !== 'none') log('info', 'deleting ...', { context: runtime });
  }
  const r = limactl(['delete', '--force', p.id], { inherit: true });
  if (r.status !== 0) throw new Fatal(`error during teardown of vm: exit status ${r.status}`);
  fs.rmSync(configDir(p), { recursive: true, force: true });
  log('info', 'done');
}

function prompt(question) {
  process.stdout.write(`${question}? [y/N] \x1b[0m`);
  let answer = '';
  try {
    answer = fs.readFileSync(0, 'utf8').split('\n')[0] ?? '';
  } catch {}
  return /^[yY]/.test(answer);
}

async function status(flags) {
  const p = PROFILE;
  const inst = instance(p);
  if (inst?.status !== 'Running') throw new Fatal(`${p.display} is not running`);
  const conf = readJson(stateFile(p)) ?? {};
  const runtime = conf.runtime ?? 'docker';
  const omit = since('0.8.3');
  const s = {
    display_name: p.display,
    driver: conf.vmType === 'vz' ? 'macOS Virtualization.Framework' : 'QEMU',
    arch: inst.arch,
    runtime,
    mount_type: conf.mountType ?? 'sshfs',
  };
  if (!omit) s.ip_address = '';
  const sock = runtime === 'docker' ? `unix://${dockerSocket(p)}` : '';
  if (sock || !omit) s.docker_socket = sock;
  if (omit && (runtime === 'docker' || runtime === 'containerd'))
    s.containerd_socket = `unix://${path.join(configDir(p), 'containerd.sock')}`;
  if (omit && runtime === 'containerd')
    s.buildkitd_socket = `unix://${path.join(configDir(p), 'buildkitd.sock')}`;
  if (omit && runtime === 'incus')
    s.incus_socket = `unix://${path.join(configDir(p), 'incus.sock')}`;
  s.kubernetes = conf.kubernetes?.enabled ?? false;
  s.cpu = inst.cpus;
  s.memory = inst.memory;
  s.disk = inst.disk;
  if (flags.json) {
    if ((FAULTS.malformed ?? []).includes('status')) process.stdout.write('{"display_name":\n');
    else process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  log('info', `${p.display} is running using ${s.driver}`);
  log('info', `arch: ${s.arch}`);
  log('info', `runtime: ${runtime}`);
  log('info', `mountType: ${s.mount_type}`);
  if (sock) log('info', `${omit ? 'docker socket' : 'socket'}: ${sock}`);
  if (omit && s.containerd_socket) log('info', `containerd socket: ${s.containerd_socket}`);
  if (flags.extended) {
    log('info', `cpu: ${s.cpu}`);
    log('info', `mem: ${bytesSize(s.memory)}`);
    log('info', `disk: ${bytesSize(s.disk)}`);
  }
}

async function list(flags, positional) {
  const ids = PROFILE.changed ? [PROFILE.id] : [];
  void positional;
  const all = instances(ids);
  if (flags.json) {
    if ((FAULTS.malformed ?? []).includes('list'))
      return void process.stdout.write('{"name":"x",\n');
    for (const i of all) process.stdout.write(`${JSON.stringify(i)}\n`);
    return;
  }
  const rows = [['PROFILE', 'STATUS', 'ARCH', 'CPUS', 'MEMORY', 'DISK', 'RUNTIME', 'ADDRESS']];
  if (all.length === 0)
    log('warning', 'No instance found. Run `colima start` to create an instance.');
  for (const i of all) {
    rows.push([
      i.name,
      i.status,
      i.arch,
      String(i.cpus ?? 0),
      bytesSize(i.memory ?? 0),
      bytesSize(i.disk ?? 0),
      i.runtime ?? '',
      i.address ?? '',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  process.stdout.write(
    `${rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] + 4))).join('')).join('\n')}\n`,
  );
}

async function ssh(_flags, positional) {
  const p = PROFILE;
  if (!running(p)) throw new Fatal(`${p.display} not running`);
  const mounts = readJson(stateFile(p))?.mounts ?? [];
  const cwd = process.cwd();
  const mounted = [{ location: os.homedir() }, ...mounts].some(
    (m) => cwd === (m.mountPoint ?? m.location) || cwd.startsWith(`${m.mountPoint ?? m.location}/`),
  );
  const workdir = mounted ? cwd : path.join(limaDir(p), 'root');
  const child = spawn('limactl', ['shell', '--workdir', workdir, p.id, ...positional], {
    env: { ...process.env, LIMA_HOME },
    stdio: 'inherit',
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  const code = await new Promise((resolve) => {
    child.on('exit', (c, signal) =>
      resolve(
        signal
          ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal.toLowerCase().replace(/^sig/, '')}`
          : c,
      ),
    );
  });
  if (code !== 0) throw new Fatal(typeof code === 'number' ? `exit status ${code}` : code);
}

async function version() {
  process.stdout.write(`colima version ${VERSION.startsWith('v') ? VERSION : `v${VERSION}`}\n`);
  process.stdout.write('git commit: 0000000000000000000000000000000000000000\n');
}

// ---------------------------------------------------------------- helpers

/** docker/go-units BytesSize: binary units, 4 significant digits, "GiB". */
function bytesSize(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** pflag's stringToString reads its value as one CSV record: `a=1,"b=x,y"`. */
function csvFields(text) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function onPath(bin) {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      fs.accessSync(path.join(d, bin), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function cmpVersion(a, b) {
  const pa = a
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((x) => Number.parseInt(x, 10) || 0);
  const pb = b
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

main().catch((error) => {
  log('fatal', error instanceof Fatal ? error.message : String(error?.stack ?? error));
  process.exitCode = 1;
});
