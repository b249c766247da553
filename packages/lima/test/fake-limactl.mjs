#!/usr/bin/env node
/**
 * fake-limactl: a stand-in for `limactl` on hosts that cannot boot Lima VMs (CI without nested
 * virtualisation).
 *
 * Follows lima v2.2.0 (lima-vm/lima @ 183a60d7), and v2.1.1 / v1.x quoting when
 * faults.version says so: cobra flag parsing (shell/flags before NAME), logrus text diagnostics
 * on stderr (`time="..." level=fatal msg="..."`, exit 1), JSON Lines from `list --json`, exit code
 * passthrough for `shell` and `copy`, and the state rules of pkg/store:
 *   Running = host agent (ha.pid) and driver (<vmType>.pid) both alive; Stopped = neither;
 *   Broken  = only one of them alive ("host agent is running but driver is not", ...).
 * `start` launches a detached fake host agent (this script, `__hostagent NAME`) which starts a
 * fake driver process, "boots" for faults.bootDelayMs and then reports READY; `stop` sends the
 * host agent SIGINT and waits; `stop --force` SIGKILLs both. `shell` runs the command with
 * `/bin/sh -c` on this host (the "guest" shares the host's filesystem; the default working
 * directory is the instance's `root/`). Snapshots are kept in `snapshots.json` (qemu only).
 * Unlike the real tool it does not refuse to run as root (CI runs as root).
 *
 * State: $LIMA_HOME (default ~/.lima)/<name>/{lima.yaml,ha.pid,<vmType>.pid,ha.stderr.log,...}.
 * Test plumbing in $LIMA_HOME/_fake/: calls.jsonl (one {"argv":[...]} per invocation) and
 * faults.json, read at every invocation:
 *   { "version": "2.2.0",
 *     "hang": ["create", ...],                         never return
 *     "fail": { "create": { "code": 1, "msg": "..." } },  fatal error
 *     "malformed": ["list"],                           broken JSON Lines
 *     "bootDelayMs": 30,                               time until READY
 *     "bootFail": true,                                the driver exits during boot
 *     "driverDiesAfterMs": 50,                         a running VM's driver dies (→ Broken)
 *     "ignoreSigint": true }                           host agent ignores graceful stop
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFlags as cobraFlags } from './cobra-flags.mjs';

const HOME = process.env.LIMA_HOME || path.join(os.homedir(), '.lima');
const FAKE = path.join(HOME, '_fake');
const SELF = new URL(import.meta.url).pathname;
// Invoked as `lima` (a symlink): `limactl shell $LIMA_INSTANCE ARGS...`, as lima's wrapper does.
const AS_LIMA = path.basename(process.argv[1] ?? '') === 'lima';
const argv = AS_LIMA
  ? ['shell', process.env.LIMA_INSTANCE || 'default', ...process.argv.slice(2)]
  : process.argv.slice(2);
const internal = argv[0]?.startsWith('__');

fs.mkdirSync(FAKE, { recursive: true });
if (!internal) fs.appendFileSync(path.join(FAKE, 'calls.jsonl'), `${JSON.stringify({ argv })}\n`);
const FAULTS = readJson(path.join(FAKE, 'faults.json')) ?? {};
const VERSION = FAULTS.version ?? '2.2.0';
const NEW_QUOTES = cmpVersion(VERSION, '2.1.2') >= 0;
/** `name` (v2.1.2+) or "name" (older), as %#q / %q render it. */
const q = (s) => (NEW_QUOTES ? `\`${s}\`` : JSON.stringify(s));

class Fatal extends Error {
  constructor(msg, code = 1) {
    super(msg);
    this.code = code;
  }
}

// ---------------------------------------------------------------- logging (logrus text, non-TTY)

function log(level, msg, fields = {}) {
  const extra = Object.entries(fields)
    .map(([k, v]) => ` ${k}=${JSON.stringify(String(v))}`)
    .join('');
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  process.stderr.write(`time="${time}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`);
}

// ---------------------------------------------------------------- flags (cobra-like)

function parseFlags(args, spec, options = {}) {
  return cobraFlags(args, spec, { ...options, fail: (m) => new Fatal(m) });
}
const GLOBAL = {
  '--tty': { type: 'bool' },
  '-y': { type: 'bool', name: 'yes' },
  '--yes': { type: 'bool', name: 'yes' },
  '--debug': { type: 'bool' },
  '--log-level': { type: 'string' },
  '--log-format': { type: 'string' },
};

const EDIT_FLAGS = {
  '--name': { type: 'string' },
  '--set': { type: 'multi' },
  '--cpus': { type: 'string' },
  '--memory': { type: 'string' },
  '--disk': { type: 'string' },
  '--vm-type': { type: 'string' },
  '--arch': { type: 'string' },
  '--mount': { type: 'multi' },
  '--mount-type': { type: 'string' },
  '--mount-writable': { type: 'bool' },
  '--network': { type: 'multi' },
  '--port-forward': { type: 'multi' },
  '--containerd': { type: 'string' },
  '--plain': { type: 'bool' },
  '--timeout': { type: 'string' },
  '--foreground': { type: 'bool' },
  '--progress': { type: 'bool' },
};

// ---------------------------------------------------------------- instance store

const instDir = (name) => path.join(HOME, name);
const yamlPath = (name) => path.join(instDir(name), 'lima.yaml');
const exists = (name) => fs.existsSync(yamlPath(name));
const config = (name) => readJson(yamlPath(name));

function pidOf(file) {
  const pid = Number(readText(file));
  if (pid > 0 && alive(pid)) return pid;
  // Dead pids are removed on read.
  if (fs.existsSync(file)) fs.rmSync(file, { force: true });
  return undefined;
}

function inspect(name) {
  const dir = instDir(name);
  const cfg = config(name);
  const ha = pidOf(path.join(dir, 'ha.pid'));
  const drv = pidOf(path.join(dir, `${cfg.vmType}.pid`));
  const errors = [];
  let status;
  if (ha && drv) status = 'Running';
  else if (!ha && !drv) status = 'Stopped';
  else {
    status = 'Broken';
    errors.push(
      ha
        ? 'host agent is running but driver is not'
        : `${cfg.vmType} driver is running but host agent is not`,
    );
  }
  const sshLocalPort = Number(readText(path.join(dir, 'ssh.port'))) || undefined;
  return {
    name,
    hostname: `lima-${name.replace(/[._]/g, '-')}`,
    status,
    dir,
    vmType: cfg.vmType,
    arch: cfg.arch,
    cpus: cfg.cpus,
    memory: gib(cfg.memory),
    disk: gib(cfg.disk),
    ...(sshLocalPort ? { sshLocalPort } : {}),
    sshConfigFile: path.join(dir, 'ssh.config'),
    ...(ha ? { hostAgentPID: ha } : {}),
    ...(drv ? { driverPID: drv } : {}),
    ...(errors.length ? { errors } : {}),
    config: cfg,
    sshAddress: '127.0.0.1',
    protected: false,
    limaVersion: VERSION,
    HostOS: os.platform(),
    HostArch: os.arch() === 'x64' ? 'x86_64' : 'aarch64',
    LimaHome: HOME,
    IdentityFile: path.join(HOME, '_config', 'user'),
  };
}

function gib(text) {
  const m = /^([\d.]+)GiB$/.exec(String(text));
  return m ? Math.round(Number(m[1]) * 1024 ** 3) : undefined;
}

// ---------------------------------------------------------------- commands

const COMMANDS = {
  create,
  start,
  stop,
  delete: del,
  rm: del,
  remove: del,
  list,
  ls: list,
  shell,
  copy,
  cp: copy,
  snapshot,
  __hostagent: hostagent,
};

async function main() {
  const { flags: global, positional } = parseFlags(
    argv,
    { ...GLOBAL, '--version': { type: 'bool' } },
    {
      stopAtFirstPositional: true,
    },
  );
  if (global.version) return void process.stdout.write(`limactl version ${VERSION}\n`);
  const [cmd, ...rest] = positional;
  if (!cmd || !(cmd in COMMANDS))
    throw new Fatal(`unknown command ${JSON.stringify(cmd ?? '')} for "limactl"`);
  if ((FAULTS.hang ?? []).includes(cmd)) await new Promise(() => setInterval(() => {}, 1 << 30));
  const fail = FAULTS.fail?.[cmd];
  if (fail) throw new Fatal(fail.msg ?? 'injected failure', fail.code ?? 1);
  await COMMANDS[cmd](rest, cmd);
}

async function create(args) {
  const { flags, positional } = parseFlags(args, { ...GLOBAL, ...EDIT_FLAGS });
  if (positional.length > 1)
    throw new Fatal(`accepts at most 1 arg(s), received ${positional.length}`);
  const locator = positional[0] ?? 'template://default';
  let template;
  let fromFile = {};
  if (/^template:\/\//.test(locator)) template = locator.slice('template://'.length);
  else if (/^template:/.test(locator)) {
    if (cmpVersion(VERSION, '2.0.0') < 0)
      throw new Fatal(`unsupported template locator ${JSON.stringify(locator)}`);
    template = locator.slice('template:'.length);
  } else if (/^https?:\/\//.test(locator))
    template = path.basename(new URL(locator).pathname).replace(/\.ya?ml$/, '');
  else {
    if (!fs.existsSync(locator)) throw new Fatal(`open ${locator}: no such file or directory`);
    template = path.basename(locator).replace(/\.ya?ml$/, '');
    fromFile = readJsonTemplate(locator);
  }
  if (template === 'nosuch') throw new Fatal(`template ${q('nosuch')} not found`);
  const name = flags.name ?? template;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || /\.ya?ml$/.test(name)) {
    throw new Fatal(`instance name ${JSON.stringify(name)} is invalid`);
  }
  if (exists(name)) {
    throw new Fatal(
      NEW_QUOTES ? `instance ${q(name)} already exists` : `instance "${name}" already exists`,
    );
  }
  log('info', 'Terminal is not available, proceeding without opening an editor');
  const cfg = {
    vmType: flags['vm-type'] ?? 'qemu',
    os: 'Linux',
    arch: flags.arch ?? (os.arch() === 'x64' ? 'x86_64' : 'aarch64'),
    images: [
      {
        location: `https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-${os.arch() === 'x64' ? 'amd64' : 'arm64'}.img`,
      },
    ],
    cpus: 4,
    memory: '4GiB',
    disk: '100GiB',
    mounts: [{ location: '~', writable: false }],
    portForwards: [],
    env: {},
    user: { name: 'lima', home: '/home/lima.linux', uid: 1000 },
    template,
  };
  // A template file written as JSON (valid YAML) sets these keys, as a YAML template would.
  for (const key of ['vmType', 'arch', 'cpus', 'memory', 'disk', 'mounts', 'portForwards', 'env']) {
    if (fromFile[key] !== undefined) cfg[key] = fromFile[key];
  }
  for (const expr of flags.set ?? []) applySet(cfg, expr);
  if (flags.cpus !== undefined) cfg.cpus = Number(flags.cpus);
  if (flags.memory !== undefined) cfg.memory = `${Number(flags.memory)}GiB`;
  if (flags.disk !== undefined) cfg.disk = `${Number(flags.disk)}GiB`;
  const dir = instDir(name);
  fs.mkdirSync(path.join(dir, 'root'), { recursive: true });
  fs.writeFileSync(yamlPath(name), JSON.stringify(cfg, null, 2));
  fs.writeFileSync(path.join(dir, 'lima-version'), VERSION);
  fs.writeFileSync(path.join(dir, 'ssh.config'), `Host lima-${name}\n  Hostname 127.0.0.1\n`);
  log('info', `Run ${q(`limactl start ${name}`)} to start the instance.`);
}

/** The template file's keys when it is JSON; a YAML-only file contributes nothing (the fake has no YAML parser). */
function readJsonTemplate(file) {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** The few yq expression shapes the driver emits: `.a.b = JSON` and `.a += [JSON]`. */
function applySet(cfg, expr) {
  const m = /^\.([A-Za-z0-9_.]+)\s*(\+?=)\s*(.+)$/s.exec(expr.trim());
  if (!m)
    throw new Fatal(`failed to evaluate yq expression ${JSON.stringify(expr)}: invalid expression`);
  const [, keyPath, op, raw] = m;
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Fatal(`failed to evaluate yq expression ${JSON.stringify(expr)}: cannot parse value`);
  }
  const keys = keyPath.split('.');
  let target = cfg;
  for (const k of keys.slice(0, -1)) target = target[k] ??= {};
  const last = keys[keys.length - 1];
  if (op === '+=') target[last] = [...(target[last] ?? []), ...value];
  else target[last] = value;
}

async function start(args) {
  const { flags, positional } = parseFlags(args, { ...GLOBAL, ...EDIT_FLAGS });
  let name = positional[0] ?? 'default';
  if (/^(template:|https?:\/\/)|\.ya?ml$/.test(name) || name.includes('/')) {
    // A template locator: create the instance from it (named after the file), then start it.
    const locator = name;
    name =
      flags.name ?? path.basename(locator.replace(/^template:(\/\/)?/, '')).replace(/\.ya?ml$/, '');
    await create([
      ...(flags.name ? [] : ['--name', name]),
      ...args.filter((a) => a !== locator),
      locator,
    ]);
  } else if (!exists(name)) {
    // The deprecated form: start creates the instance. The driver must never rely on it.
    log(
      'warning',
      `Creating an instance ${q(name)} from template://default (Not from template://${name})`,
    );
    log(
      'warning',
      `This form is deprecated. Use ${q(`limactl create --name=${name} template://default`)} instead`,
    );
    await create(['--name', name, 'template://default']);
  }
  const st = inspect(name);
  if (st.status === 'Running') {
    log(
      'info',
      `The instance ${q(name)} is already running. Run ${q(`limactl shell ${name}`)} to open the shell.`,
    );
    return;
  }
  if (st.status === 'Broken' || st.hostAgentPID) {
    throw new Fatal(
      `instance ${q(name)} seems running (hint: remove ${q(path.join(st.dir, 'ha.pid'))} if the instance is not actually running)`,
    );
  }
  const timeoutMs = parseDuration(flags.timeout ?? '10m');
  const cfg = config(name);
  log('info', `Starting the instance ${q(name)} with internal VM driver ${q(cfg.vmType)}`);
  const dir = instDir(name);
  fs.rmSync(path.join(dir, 'ready'), { force: true });
  const errLog = fs.openSync(path.join(dir, 'ha.stderr.log'), 'a');
  const child = spawn(process.execPath, [SELF, '__hostagent', name], {
    detached: true,
    stdio: ['ignore', 'ignore', errLog],
    // Lets tests tell which instance a process belongs to (the driver inherits it).
    env: { ...process.env, LIMA_FAKE_INSTANCE: name },
  });
  child.unref();
  const port = 40000 + Math.floor(Math.random() * 20000);
  fs.writeFileSync(path.join(dir, 'ssh.port'), String(port));
  log('info', `SSH Local Port: ${port}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'ready'))) break;
    if (!alive(child.pid)) {
      throw new Fatal(
        `exiting, status={Running:false Degraded:false Exiting:true Errors:[] SSHLocalPort:${port}} (hint: see ${JSON.stringify(path.join(dir, 'ha.stderr.log'))})`,
      );
    }
    if (Date.now() >= deadline)
      throw new Fatal(`did not receive an event with the ${q('running')} status`);
    await sleep(10);
  }
  log(
    'info',
    `READY. Run ${q(name === 'default' ? 'lima' : `limactl shell ${name}`)} to open the shell.`,
  );
}

/** The fake host agent: starts the fake driver, "boots", serves until SIGINT. */
async function hostagent([name]) {
  const dir = instDir(name);
  const cfg = config(name);
  fs.writeFileSync(path.join(dir, 'ha.pid'), String(process.pid));
  const driver = spawn('sleep', ['2147483'], { stdio: 'ignore' });
  fs.writeFileSync(path.join(dir, `${cfg.vmType}.pid`), String(driver.pid));
  const forwards = [];
  const shutdown = (code) => {
    try {
      driver.kill('SIGKILL');
    } catch {}
    for (const socket of forwards) fs.rmSync(socket, { force: true });
    for (const f of ['ha.pid', `${cfg.vmType}.pid`, 'ready'])
      fs.rmSync(path.join(dir, f), { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => {
    // Read now: a long-running host agent sees faults set after it started.
    if (readJson(path.join(FAKE, 'faults.json'))?.ignoreSigint) return;
    process.stderr.write('Received SIGINT, shutting down the host agent\n');
    shutdown(0);
  });
  process.on('SIGTERM', () => shutdown(0));
  setInterval(() => {}, 1 << 30);
  await sleep(FAULTS.bootDelayMs ?? 30);
  // Socket forwards (guestSocket → hostSocket). The fake guest shares this host's filesystem,
  // so the guest socket is a path here.
  for (const rule of cfg.portForwards ?? []) {
    if (!rule.guestSocket || !rule.hostSocket) continue;
    fs.mkdirSync(path.dirname(rule.hostSocket), { recursive: true });
    fs.rmSync(rule.hostSocket, { force: true });
    // Half-open allowed both ways: a client that ends its stdin still reads the answer.
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      const guest = net.connect({ path: rule.guestSocket, allowHalfOpen: true });
      client.pipe(guest).pipe(client);
      const close = () => {
        client.destroy();
        guest.destroy();
      };
      client.on('error', close);
      guest.on('error', close);
    });
    server.listen(rule.hostSocket);
    forwards.push(rule.hostSocket);
  }
  if (FAULTS.bootFail) {
    process.stderr.write('qemu: failed to boot: no bootable device\n');
    driver.kill('SIGKILL');
    shutdown(1);
  }
  fs.writeFileSync(path.join(dir, 'ready'), '');
  if (FAULTS.driverDiesAfterMs !== undefined) {
    await sleep(FAULTS.driverDiesAfterMs);
    process.stderr.write('qemu: terminating on signal 9\n');
    driver.kill('SIGKILL');
  }
}

async function stop(args) {
  const { flags, positional } = parseFlags(args, {
    ...GLOBAL,
    '--force': { type: 'bool', name: 'force' },
    '-f': { type: 'bool', name: 'force' },
  });
  const name = positional[0] ?? 'default';
  if (!exists(name)) throw new Fatal(`open ${yamlPath(name)}: no such file or directory`);
  const st = inspect(name);
  const dir = instDir(name);
  if (flags.force) {
    if (st.driverPID) kill(st.driverPID, 'SIGKILL');
    else log('info', `The ${config(name).vmType} driver process seems already stopped`);
    if (st.hostAgentPID) kill(st.hostAgentPID, 'SIGKILL');
    else log('info', 'The host agent process seems already stopped');
    for (const f of fs.readdirSync(dir)) {
      if (/\.(pid|sock|tmp)$/.test(f) || f === 'ready')
        fs.rmSync(path.join(dir, f), { force: true });
    }
    return;
  }
  if (st.status !== 'Running') {
    throw new Fatal(
      NEW_QUOTES
        ? `expected status ${q('Running')}, got ${q(st.status)} (maybe use ${q('limactl stop -f')}?)`
        : `expected status "Running", got "${st.status}" (maybe use \`limactl stop -f\`?)`,
    );
  }
  log('info', `Sending SIGINT to hostagent process ${st.hostAgentPID}`);
  kill(st.hostAgentPID, 'SIGINT');
  log('info', 'Waiting for the host agent and the driver processes to shut down');
  // Real lima waits up to 3m10s for the exiting event; the fake waits until both are gone.
  while (alive(st.hostAgentPID) || alive(st.driverPID)) await sleep(10);
  log('info', `The instance ${name} has shut down`);
}

async function del(args) {
  const { flags, positional } = parseFlags(args, {
    ...GLOBAL,
    '--force': { type: 'bool', name: 'force' },
    '-f': { type: 'bool', name: 'force' },
  });
  if (positional.length === 0) throw new Fatal('requires at least 1 arg(s), only received 0');
  for (const name of positional) {
    const dir = instDir(name);
    if (!fs.existsSync(dir)) {
      log('warning', `Ignoring non-existent instance ${q(name)}`);
      continue;
    }
    if (!exists(name)) {
      throw new Fatal(
        `instance ${q(name)} directory ${q(dir)} exists but its ${q('lima.yaml')} could not be read; it was NOT deleted`,
      );
    }
    const st = inspect(name);
    if (st.status !== 'Stopped') {
      if (!flags.force) {
        throw new Fatal(
          `failed to delete instance ${q(name)}: expected status ${q('Stopped')}, got ${q(st.status)}`,
        );
      }
      if (st.driverPID) kill(st.driverPID, 'SIGKILL');
      if (st.hostAgentPID) kill(st.hostAgentPID, 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
    log('info', `Deleted ${q(name)} (${q(dir)})`);
  }
}

async function list(args) {
  const { flags, positional } = parseFlags(args, {
    ...GLOBAL,
    '--json': { type: 'bool' },
    '--format': { type: 'string' },
    '-f': { type: 'string', name: 'format' },
    '--quiet': { type: 'bool', name: 'quiet' },
    '-q': { type: 'bool', name: 'quiet' },
  });
  if (flags.json && flags.format) throw new Fatal('option --json conflicts with option --format');
  const format = flags.json ? 'json' : (flags.format ?? 'table');
  if (flags.quiet && format !== 'table')
    throw new Fatal("option --quiet can only be used with '--format table'");
  const all = fs.existsSync(HOME)
    ? fs
        .readdirSync(HOME)
        .filter((n) => !n.startsWith('_') && !n.startsWith('.'))
        .sort()
    : [];
  let names = all;
  let unmatched = false;
  if (positional.length > 0) {
    names = [];
    for (const want of positional) {
      if (all.includes(want) && exists(want)) names.push(want);
      else {
        log('warning', `No instance matching ${want} found.`);
        unmatched = true;
      }
    }
  } else if (all.length === 0) {
    log('warning', `No instance found. Run ${q('limactl create')} to create an instance.`);
  }
  const items = names.filter(exists).map(inspect);
  for (const it of items)
    if (it.errors)
      log('warning', `instance ${q(it.name)} has errors`, { errors: it.errors.join(', ') });
  if (format === 'json') {
    if ((FAULTS.malformed ?? []).includes('list')) process.stdout.write('{"name":"x","status":\n');
    else process.stdout.write(items.map((it) => `${JSON.stringify(it)}\n`).join(''));
  } else if (flags.quiet) {
    process.stdout.write(items.map((it) => `${it.name}\n`).join(''));
  } else {
    const rows = [['NAME', 'STATUS', 'SSH', 'VMTYPE', 'ARCH', 'CPUS', 'MEMORY', 'DISK', 'DIR']];
    for (const it of items) {
      rows.push([
        it.name,
        it.status,
        `127.0.0.1:${it.sshLocalPort ?? 0}`,
        it.vmType,
        it.arch,
        String(it.cpus),
        it.config.memory,
        it.config.disk,
        it.dir,
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    process.stdout.write(
      `${rows
        .map((r) =>
          r
            .map((c, i) => c.padEnd(widths[i] + 4))
            .join('')
            .trimEnd(),
        )
        .join('\n')}\n`,
    );
  }
  if (unmatched) throw new Fatal('unmatched instances');
}

async function shell(args) {
  const { flags, positional } = parseFlags(
    args,
    {
      ...GLOBAL,
      '--workdir': { type: 'string' },
      '--shell': { type: 'string' },
      '--start': { type: 'bool' },
      '--preserve-env': { type: 'bool' },
      '--reconnect': { type: 'bool' },
    },
    { stopAtFirstPositional: true },
  );
  if (positional.length === 0) throw new Fatal('requires instance name as first argument');
  const [name, ...rest] = positional;
  const command = rest[0] === '--' ? rest.slice(1) : rest;
  if (!exists(name)) {
    throw new Fatal(
      `instance ${q(name)} does not exist, run ${q(`limactl create ${name}`)} to create a new instance`,
    );
  }
  const st = inspect(name);
  if (st.status === 'Stopped') {
    throw new Fatal(
      `instance ${q(name)} is stopped, run ${q(`limactl start ${name}`)} to start the instance`,
    );
  }
  if (st.status !== 'Running')
    throw new Fatal(`instance ${q(name)} is not running (status ${st.status})`);
  const workdir = flags.workdir ?? path.join(st.dir, 'root');
  if (!fs.existsSync(workdir)) {
    process.stderr.write(`bash: line 1: cd: ${workdir}: No such file or directory\n`);
    process.exitCode = 1;
    return;
  }
  // Real limactl: shell-quotes and joins the args, runs `$SHELL -l -c '<joined>'` over ssh.
  const script = command.length > 0 ? command.map(shellQuote).join(' ') : 'exec /bin/sh';
  const child = spawn('/bin/sh', ['-c', script], { cwd: workdir, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      child.kill('SIGKILL');
      process.exit(255);
    });
  }
  process.exitCode = await new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] ?? 0)));
  });
}

async function copy(args) {
  const { flags, positional } = parseFlags(args, {
    ...GLOBAL,
    '-r': { type: 'bool', name: 'recursive' },
    '--recursive': { type: 'bool', name: 'recursive' },
    '-v': { type: 'bool', name: 'verbose' },
    '--verbose': { type: 'bool', name: 'verbose' },
    '--backend': { type: 'string' },
  });
  if (positional.length < 2)
    throw new Fatal(`requires at least 2 arg(s), only received ${positional.length}`);
  const resolve = (spec) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.*)$/.exec(spec);
    if (!m) return spec;
    const [, name, p] = m;
    if (!exists(name))
      throw new Fatal(
        `instance ${q(name)} does not exist, run ${q(`limactl create ${name}`)} to create a new instance`,
      );
    if (inspect(name).status !== 'Running')
      throw new Fatal(
        `instance ${q(name)} is stopped, run ${q(`limactl start ${name}`)} to start the instance`,
      );
    return p;
  };
  const dst = resolve(positional[positional.length - 1]);
  for (const src of positional.slice(0, -1).map(resolve)) {
    if (!fs.existsSync(src)) {
      process.stderr.write(`scp: ${src}: No such file or directory\n`);
      process.exitCode = 1;
      return;
    }
    if (fs.statSync(src).isDirectory() && !flags.recursive) {
      process.stderr.write(`scp: ${src}: not a regular file\n`);
      process.exitCode = 1;
      return;
    }
    const target =
      fs.existsSync(dst) && fs.statSync(dst).isDirectory()
        ? path.join(dst, path.basename(src))
        : dst;
    fs.cpSync(src, target, { recursive: true });
  }
}

async function snapshot(args) {
  const [sub, ...rest] = args;
  const { flags, positional } = parseFlags(rest, {
    ...GLOBAL,
    '--tag': { type: 'string' },
    '-q': { type: 'bool', name: 'quiet' },
    '--quiet': { type: 'bool', name: 'quiet' },
  });
  log('warning', '`limactl snapshot` is experimental');
  const verbs = {
    create: 'create',
    save: 'create',
    apply: 'apply',
    load: 'apply',
    delete: 'delete',
    del: 'delete',
    list: 'list',
    ls: 'list',
  };
  const verb = verbs[sub];
  if (!verb) throw new Fatal(`unknown command ${JSON.stringify(sub ?? '')} for "limactl snapshot"`);
  const name = positional[0];
  if (!name) throw new Fatal('requires at least 1 arg(s), only received 0');
  if (!exists(name)) throw new Fatal(`instance ${q(name)} not found`);
  const cfg = config(name);
  if (cfg.vmType !== 'qemu') throw new Fatal('unimplemented');
  const file = path.join(instDir(name), 'snapshots.json');
  const snaps = readJson(file) ?? [];
  const running = inspect(name).status === 'Running';
  if (verb === 'list') {
    if (flags.quiet) return void process.stdout.write(snaps.map((s) => `${s.tag}\n`).join(''));
    if (snaps.length === 0) return;
    const header =
      'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT';
    const rows = snaps.map(
      (s, i) =>
        `${String(running ? '--' : i + 1).padEnd(10)}${s.tag.padEnd(17)}${(running ? '744 KiB' : '0 B').padStart(8)}${s.date.padStart(20)}${'00:00:07.652'.padStart(13)}${''.padStart(11)}`,
    );
    return void process.stdout.write(`${[header, ...rows].join('\n')}\n`);
  }
  if (!flags.tag) throw new Fatal('expected tag');
  const tag = flags.tag;
  const idx = snaps.findIndex((s) => s.tag === tag);
  if (verb === 'create') {
    const date = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, '');
    if (idx >= 0) snaps[idx].date = date;
    else snaps.push({ tag, date });
  } else if (verb === 'apply') {
    if (idx < 0) {
      throw new Fatal(
        running
          ? `Error: Snapshot '${tag}' does not exist in one or more devices`
          : `qemu-img: Could not apply snapshot '${tag}': Failed to load snapshot: No such file or directory`,
      );
    }
  } else if (verb === 'delete') {
    if (idx < 0 && !running)
      throw new Fatal(`qemu-img: Could not delete snapshot '${tag}': snapshot not found`);
    if (idx >= 0) snaps.splice(idx, 1);
  }
  fs.writeFileSync(file, JSON.stringify(snaps));
}

// ---------------------------------------------------------------- helpers

function shellQuote(s) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\"'\"'")}'`;
}

function parseDuration(text) {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let matched = '';
  for (const m of text.matchAll(re)) {
    ms += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2]];
    matched += m[0];
  }
  if (matched !== text)
    throw new Fatal(
      `invalid argument ${JSON.stringify(text)} for "--timeout" flag: time: invalid duration ${JSON.stringify(text)}`,
    );
  return ms;
}

function cmpVersion(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  // An exited process nobody reaped (orphans under a PID 1 that does not reap) is not alive.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {}
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readJson(file) {
  const text = readText(file);
  return text === undefined ? undefined : JSON.parse(text);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error) => {
  if (error instanceof Fatal) {
    log('fatal', error.message);
    process.exitCode = error.code;
  } else {
    log('fatal', String(error?.stack ?? error));
    process.exitCode = 1;
  }
});
