#!/usr/bin/env node
/**
 * fake-tart: a stand-in for the `tart` CLI on hosts that cannot run it (Linux CI).
 *
 * Follows tart 2.32.1 (cirruslabs/tart @ 5287b597): command names and flags, stdout/stderr split,
 * exit codes (0 ok, 1 runtime error, 2 VMDoesNotExist/VMNotRunning/VMAlreadyRunning, 64 usage),
 * the exact error texts, Swift JSONEncoder pretty output (`"key" : value`, `\/` escapes, `[\n\n]`
 * for an empty array, shuffled key order), and the state rules:
 *   running   = a live `tart run` process holds the VM (real tart: an fcntl lock on config.json;
 *               here: `run.pid` naming a live process),
 *   suspended = `state.vzvmsave` exists, stopped = neither.
 * `tart run` is a foreground process that boots the "guest" after FAULTS.bootDelayMs, then keeps
 * running until SIGINT (stop), SIGUSR1 (suspend) or SIGUSR2 (guest shutdown). `tart exec` runs the
 * command on this host inside the VM's `root/` directory.
 *
 * State lives in $TART_HOME (default ~/.tart): `vms/<name>/{config.json,disk.img,nvram.bin}`,
 * the OCI cache in `cache/OCIs/`. Test plumbing lives in `$TART_HOME/.fake/`:
 *   calls.jsonl   one {"argv": [...]} line per invocation (for exact argv assertions)
 *   faults.json   fault injection, read at every invocation:
 *     { "hang": ["clone", ...],                       never return
 *       "fail": { "set": { "code": 1, "stderr": "..." } },
 *       "malformed": ["get", "list"],                  print broken JSON
 *       "bootDelayMs": 20,                             time until IP + guest agent are up
 *       "runExitEarly": { "code": 1, "stderr": "..." },   `tart run` dies before booting
 *       "dieAfterMs": { "ms": 50, "code": 1, "stderr": "..." }, a booted VM dies
 *       "crash": { "name": "vm", "code": 1, "stderr": "..." },  a running VM dies now
 *       "ignoreSigint": true,                          `tart run` ignores SIGINT (stop must force)
 *       "noIp": true, "noAgent": true,                 no DHCP lease / no guest agent
 *       "version": "2.32.1" }
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const HOME = process.env.TART_HOME || path.join(os.homedir(), '.tart');
const VMS = path.join(HOME, 'vms');
const OCI = path.join(HOME, 'cache', 'OCIs');
const FAKE = path.join(HOME, '.fake');
const argv = process.argv.slice(2);

fs.mkdirSync(FAKE, { recursive: true });
fs.appendFileSync(path.join(FAKE, 'calls.jsonl'), `${JSON.stringify({ argv })}\n`);
const FAULTS = readJson(path.join(FAKE, 'faults.json')) ?? {};

class Exit extends Error {
  constructor(code, stderr = '', stdout = '') {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

const USAGE = (cmd) =>
  `USAGE: tart ${cmd} <options>\n\n  See 'tart ${cmd} --help' for more information.\n`;
const usageError = (cmd, message) => new Exit(64, `Error: ${message}\n${USAGE(cmd)}`);
const doesNotExist = (name) => new Exit(2, `the specified VM "${name}" does not exist\n`);
const notRunning = (name) => new Exit(2, `VM "${name}" is not running\n`);

const COMMANDS = { clone, create, run, stop, suspend, delete: del, list, get, set, ip, exec };

async function main() {
  const [cmd, ...rest] = argv;
  if (cmd === '--version') return void process.stdout.write(`${FAULTS.version ?? '2.32.1'}\n`);
  if (!cmd || !(cmd in COMMANDS)) {
    throw new Exit(64, `Error: Unexpected argument '${cmd ?? ''}'\nUSAGE: tart <subcommand>\n`);
  }
  if ((FAULTS.hang ?? []).includes(cmd)) await new Promise(() => setInterval(() => {}, 1 << 30));
  const fail = FAULTS.fail?.[cmd];
  if (fail) throw new Exit(fail.code ?? 1, fail.stderr ?? '', fail.stdout ?? '');
  await COMMANDS[cmd](rest, cmd);
}

// ---------------------------------------------------------------- argument parsing

/** Parses flags the way swift-argument-parser does for these commands. */
function parse(cmd, args, spec, { passthroughAfter } = {}) {
  const flags = {};
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (passthroughAfter !== undefined && positional.length >= passthroughAfter) {
      positional.push(...args.slice(i));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const [key, inline] = a.split('=', 2);
      const kind = spec[key];
      if (!kind) throw usageError(cmd, `Unknown option '${key}'`);
      const name = kind.name ?? key.replace(/^-+/, '');
      if (kind.type === 'bool') flags[name] = true;
      else {
        const value = inline ?? args[++i];
        if (value === undefined) throw usageError(cmd, `Missing value for '${key}'`);
        if (kind.type === 'int' && !/^\d+$/.test(value)) {
          throw usageError(cmd, `The value '${value}' is invalid for '${key} <${name}>'`);
        }
        if (kind.type === 'multi') flags[name] = [...(flags[name] ?? []), value];
        else flags[name] = kind.type === 'int' ? Number(value) : value;
      }
    } else positional.push(a);
  }
  return { flags, positional };
}

function one(cmd, positional, label = 'name') {
  if (positional.length === 0) throw usageError(cmd, `Missing expected argument '<${label}>'`);
  if (positional.length > 1) throw usageError(cmd, `Unexpected argument '${positional[1]}'`);
  return positional[0];
}

// ---------------------------------------------------------------- VM storage

const vmDir = (name) => path.join(VMS, name);
const cfgPath = (name) => path.join(vmDir(name), 'config.json');

function exists(name) {
  const dir = vmDir(name);
  return ['config.json', 'disk.img', 'nvram.bin'].every((f) => fs.existsSync(path.join(dir, f)));
}

function mustExist(name) {
  if (!exists(name)) throw doesNotExist(name);
  return readJson(cfgPath(name));
}

function runPid(name) {
  const pid = Number(readText(path.join(vmDir(name), 'run.pid')));
  return pid > 0 && alive(pid) ? pid : undefined;
}

function state(name) {
  if (runPid(name)) return 'running';
  if (fs.existsSync(path.join(vmDir(name), 'state.vzvmsave'))) return 'suspended';
  return 'stopped';
}

function booted(name) {
  return runPid(name) !== undefined && fs.existsSync(path.join(vmDir(name), 'booted'));
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

function writeVm(name, config, sizeGB) {
  const dir = vmDir(name);
  fs.mkdirSync(path.join(dir, 'root'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  fs.writeFileSync(path.join(dir, 'disk.img'), String(sizeGB ?? config.diskGB ?? 50));
  fs.writeFileSync(path.join(dir, 'nvram.bin'), '');
}

function newConfig(osName) {
  const darwin = osName === 'darwin';
  return {
    version: 1,
    os: osName,
    arch: 'arm64',
    cpuCountMin: darwin ? 4 : 2,
    cpuCount: darwin ? 4 : 2,
    memorySizeMin: (darwin ? 4096 : 2048) * 1024 * 1024,
    memorySize: (darwin ? 8192 : 4096) * 1024 * 1024,
    macAddress: randomMac(),
    display: { width: 1024, height: 768 },
    diskFormat: 'raw',
    diskGB: darwin ? 50 : 20,
  };
}

function randomMac() {
  const b = [...createHash('sha1').update(`${Date.now()}${Math.random()}`).digest()].slice(0, 5);
  return ['7e', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

const isOci = (ref) => ref.includes('/');
const ociDir = (ref) => path.join(OCI, ref.replace(/[/:@]/g, '_'));

// ---------------------------------------------------------------- commands

async function clone(args, cmd) {
  const { positional } = parse(cmd, args, {
    '--insecure': { type: 'bool' },
    '--concurrency': { type: 'int' },
    '--prune-limit': { type: 'int' },
  });
  if (positional.length !== 2) throw usageError(cmd, "Missing expected argument '<new-name>'");
  const [source, target] = positional;
  if (target.includes('/')) throw usageError(cmd, '<new-name> should be a local name');
  let config;
  if (isOci(source)) {
    const dir = ociDir(source);
    if (!fs.existsSync(dir)) {
      process.stdout.write(
        `pulling ${source}...\npulling manifest...\npulling disk (1 GB compressed)...\n`,
      );
      const osName = /macos/i.test(source) ? 'darwin' : 'linux';
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'meta.json'),
        JSON.stringify({ name: source, config: newConfig(osName) }),
      );
    }
    config = readJson(path.join(dir, 'meta.json')).config;
  } else {
    config = mustExist(source);
  }
  writeVm(target, { ...config, macAddress: randomMac() });
}

async function create(args, cmd) {
  const { flags, positional } = parse(cmd, args, {
    '--linux': { type: 'bool' },
    '--from-ipsw': { type: 'string' },
    '--disk-size': { type: 'int' },
    '--disk-format': { type: 'string' },
  });
  const name = one(cmd, positional);
  if (!flags.linux && !flags['from-ipsw']) {
    throw usageError(cmd, 'Please specify either a --from-ipsw or --linux option!');
  }
  const config = newConfig(flags.linux ? 'linux' : 'darwin');
  if (flags['disk-size']) config.diskGB = flags['disk-size'];
  writeVm(name, config);
}

async function get(args, cmd) {
  const { flags, positional } = parse(cmd, args, { '--format': { type: 'string' } });
  const name = one(cmd, positional);
  const config = mustExist(name);
  const st = state(name);
  const obj = {
    OS: config.os,
    CPU: config.cpuCount,
    Memory: config.memorySize / 1024 / 1024,
    Disk: config.diskGB,
    DiskFormat: config.diskFormat,
    Size: (config.diskGB / 3).toFixed(3),
    Display: `${config.display.width}x${config.display.height}`,
    Running: st === 'running',
    State: st,
  };
  output(cmd, flags.format, obj);
}

async function list(args, cmd) {
  const { flags } = parse(cmd, args, {
    '--source': { type: 'string' },
    '--format': { type: 'string' },
    '--quiet': { type: 'bool', name: 'quiet' },
    '-q': { type: 'bool', name: 'quiet' },
  });
  if (flags.source && !['local', 'oci'].includes(flags.source)) {
    throw usageError(cmd, `'${flags.source}' is not a valid <source>`);
  }
  const entries = [];
  if (flags.source !== 'oci') {
    const names = fs.existsSync(VMS) ? fs.readdirSync(VMS).filter(exists).sort() : [];
    for (const name of names) {
      const config = readJson(cfgPath(name));
      const st = state(name);
      entries.push({
        Source: 'local',
        Name: name,
        Disk: config.diskGB,
        Size: Math.floor(config.diskGB / 3),
        Accessed: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Running: st === 'running',
        State: st,
      });
    }
  }
  if (flags.source !== 'local' && fs.existsSync(OCI)) {
    for (const dir of fs.readdirSync(OCI).sort()) {
      const meta = readJson(path.join(OCI, dir, 'meta.json'));
      if (!meta) continue;
      entries.push({
        Source: 'OCI',
        Name: meta.name,
        Disk: meta.config.diskGB,
        Size: Math.floor(meta.config.diskGB / 3),
        Accessed: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Running: false,
        State: 'stopped',
      });
    }
  }
  if (flags.quiet) return void process.stdout.write(entries.map((e) => `${e.Name}\n`).join(''));
  output(cmd, flags.format, entries);
}

async function set(args, cmd) {
  const { flags, positional } = parse(cmd, args, {
    '--cpu': { type: 'int' },
    '--memory': { type: 'int' },
    '--disk-size': { type: 'int' },
    '--display': { type: 'string' },
    '--random-mac': { type: 'bool' },
    '--random-serial': { type: 'bool' },
  });
  const name = one(cmd, positional);
  const config = mustExist(name);
  if (flags.cpu !== undefined) {
    if (flags.cpu < config.cpuCountMin) {
      throw new Exit(
        1,
        `VM requires at least ${config.cpuCountMin} CPUs, ${flags.cpu} requested\n`,
      );
    }
    config.cpuCount = flags.cpu;
  }
  if (flags.memory !== undefined) {
    const min = config.memorySizeMin / 1024 / 1024;
    if (flags.memory < min)
      throw new Exit(1, `VM requires at least ${min} MB of memory, ${flags.memory} requested\n`);
    config.memorySize = flags.memory * 1024 * 1024;
  }
  if (flags['disk-size'] !== undefined) {
    if (flags['disk-size'] < config.diskGB) {
      throw new Exit(
        1,
        `new disk size of ${flags['disk-size']}GB should be larger than the current disk size of ${config.diskGB}GB\n`,
      );
    }
    config.diskGB = flags['disk-size'];
  }
  if (flags['random-mac']) config.macAddress = randomMac();
  fs.writeFileSync(cfgPath(name), JSON.stringify(config));
}

async function del(args, cmd) {
  const { positional } = parse(cmd, args, {});
  if (positional.length === 0) throw usageError(cmd, "Missing expected argument '<name> ...'");
  for (const name of positional) {
    if (isOci(name)) {
      if (!fs.existsSync(ociDir(name))) throw doesNotExist(name);
      fs.rmSync(ociDir(name), { recursive: true, force: true });
      continue;
    }
    mustExist(name);
    if (state(name) === 'running') throw new Exit(1, `VM "${name}" is running\n`);
    fs.rmSync(vmDir(name), { recursive: true, force: true });
  }
}

async function stop(args, cmd) {
  const { flags, positional } = parse(cmd, args, {
    '--timeout': { type: 'int', name: 'timeout' },
    '-t': { type: 'int', name: 'timeout' },
  });
  const name = one(cmd, positional);
  mustExist(name);
  const st = state(name);
  if (st === 'suspended')
    return void fs.rmSync(path.join(vmDir(name), 'state.vzvmsave'), { force: true });
  if (st === 'stopped') throw notRunning(name);
  const pid = runPid(name);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + (flags.timeout ?? 30) * 1000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      throw new Exit(1, `failed to forcefully terminate the VM "${name}": ${error.code}\n`);
    }
    while (alive(pid)) await sleep(20);
  }
}

async function suspend(args, cmd) {
  const { positional } = parse(cmd, args, {});
  const name = one(cmd, positional);
  mustExist(name);
  const pid = runPid(name);
  // Upstream bug kept on purpose: the message is wrapped twice.
  if (!pid) throw new Exit(2, `VM "VM "${name}" is not running" is not running\n`);
  try {
    process.kill(pid, 'SIGUSR1');
  } catch {
    throw new Exit(
      1,
      `Failed to suspend the VM: failed to send SIGUSR1 signal to the "tart run" process running VM "${name}"\n`,
    );
  }
}

async function ip(args, cmd) {
  const { flags, positional } = parse(cmd, args, {
    '--wait': { type: 'int' },
    '--resolver': { type: 'string' },
  });
  const name = one(cmd, positional);
  mustExist(name);
  const deadline = Date.now() + (flags.wait ?? 0) * 1000;
  for (;;) {
    if (booted(name) && !FAULTS.noIp) {
      const n = createHash('sha1').update(name).digest()[0] % 200;
      return void process.stdout.write(`192.168.64.${n + 2}\n`);
    }
    if (Date.now() >= deadline) break;
    await sleep(100);
  }
  const running = state(name) === 'running';
  throw new Exit(1, `no IP address found${running ? '' : ', is your VM running?'}\n`);
}

async function exec(args, cmd) {
  const { flags, positional } = parse(
    cmd,
    args,
    { '-i': { type: 'bool', name: 'interactive' }, '-t': { type: 'bool', name: 'tty' } },
    { passthroughAfter: 1 },
  );
  if (positional.length < 2) throw usageError(cmd, "Missing expected argument '<command> ...'");
  const [name, ...command] = positional;
  mustExist(name);
  if (state(name) !== 'running') throw notRunning(name);
  if (!booted(name) || FAULTS.noAgent) {
    throw new Exit(
      1,
      'Failed to connect to the VM using its control socket: connection refused, is the Tart Guest Agent running?\n',
    );
  }
  const child = spawn(command[0], command.slice(1), {
    cwd: path.join(vmDir(name), 'root'),
    stdio: [flags.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      child.kill('SIGKILL');
      process.exit(130);
    });
  }
  const code = await new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(
        `exec: ${command[0]}: ${error.code === 'ENOENT' ? 'not found' : error.message}\n`,
      );
      resolve(127);
    });
    child.on('exit', (c, signal) =>
      resolve(c ?? (signal ? 128 + os.constants.signals[signal] : 1)),
    );
  });
  process.exitCode = code;
}

async function run(args, cmd) {
  const { flags, positional } = parse(cmd, args, {
    '--no-graphics': { type: 'bool' },
    '--graphics': { type: 'bool' },
    '--no-audio': { type: 'bool' },
    '--no-clipboard': { type: 'bool' },
    '--suspendable': { type: 'bool' },
    '--serial': { type: 'bool' },
    '--dir': { type: 'multi' },
    '--disk': { type: 'multi' },
    '--net-softnet': { type: 'bool' },
    '--net-bridged': { type: 'multi' },
    '--net-host': { type: 'bool' },
    '--vnc': { type: 'bool' },
    '--nested': { type: 'bool' },
  });
  const name = one(cmd, positional);
  if (flags['no-graphics'] && flags.graphics) {
    throw usageError(cmd, '--graphics and --no-graphics are mutually exclusive');
  }
  // validate() opens the VM: errors are prefixed with "Error: " and exit 1.
  if (!exists(name)) throw new Exit(1, `Error: the specified VM "${name}" does not exist\n`);
  const config = readJson(cfgPath(name));
  const savePath = path.join(vmDir(name), 'state.vzvmsave');
  const resuming = fs.existsSync(savePath);
  const suspendable = flags.suspendable || resuming;
  if (flags.suspendable && config.os !== 'darwin')
    throw new Exit(1, 'Error: You can only suspend macOS VMs\n');
  if (runPid(name)) throw new Exit(2, `VM "${name}" is already running!\n`);

  const pidFile = path.join(vmDir(name), 'run.pid');
  const bootedFile = path.join(vmDir(name), 'booted');
  fs.rmSync(bootedFile, { force: true });
  fs.writeFileSync(pidFile, String(process.pid));
  const release = () => {
    if (readText(pidFile) === String(process.pid)) fs.rmSync(pidFile, { force: true });
    fs.rmSync(bootedFile, { force: true });
  };
  const finish = (code, stdout = '', stderr = '') => {
    release();
    if (stdout) process.stdout.write(stdout);
    if (stderr) process.stderr.write(stderr);
    process.exit(code);
  };
  setInterval(() => {}, 1 << 30); // the VM runs until a signal arrives

  if (FAULTS.runExitEarly) {
    await sleep(FAULTS.runExitEarly.afterMs ?? 10);
    finish(FAULTS.runExitEarly.code ?? 1, '', FAULTS.runExitEarly.stderr ?? 'VM failed to start\n');
  }
  process.on('SIGINT', () => {
    if (liveFaults().ignoreSigint) return;
    finish(0, 'Stopping VM...\n');
  });
  process.on('SIGUSR2', () => finish(0, 'Requesting guest OS to stop...\n'));
  process.on('SIGUSR1', () => {
    if (!suspendable) {
      finish(
        1,
        'Failed to suspend the VM: the VM was not started with --suspendable, or its guest does not support suspension\n',
      );
    }
    fs.writeFileSync(savePath, 'saved');
    finish(
      0,
      'pausing VM to take a snapshot...\ncreating a snapshot...\nsnapshot created successfully! shutting down the VM...\n',
    );
  });

  if (resuming) {
    process.stdout.write('restoring VM state from a snapshot...\nresuming VM...\n');
    fs.rmSync(savePath, { force: true });
  } else {
    await sleep(FAULTS.bootDelayMs ?? 20);
  }
  fs.writeFileSync(bootedFile, '');
  // A VM dying while running, on demand: faults.json gets {"crash": {"name": NAME, ...}}.
  setInterval(() => {
    const crash = liveFaults().crash;
    if (crash && (crash.name === undefined || crash.name === name)) {
      finish(crash.code ?? 1, '', crash.stderr ?? 'Virtualization error: the VM crashed\n');
    }
  }, 25);
  if (FAULTS.dieAfterMs) {
    await sleep(FAULTS.dieAfterMs.ms ?? 50);
    finish(
      FAULTS.dieAfterMs.code ?? 1,
      '',
      FAULTS.dieAfterMs.stderr ?? 'Virtualization error: the VM crashed\n',
    );
  }
}

// ---------------------------------------------------------------- output

function output(cmd, format = 'text', value) {
  if (FAULTS.malformed?.includes(cmd)) return void process.stdout.write('[\n  {\n    "Name" : \n');
  if (format === 'json') return void process.stdout.write(`${swiftJson(value, '')}\n`);
  if (format !== 'text')
    throw usageError(cmd, `The value '${format}' is invalid for '--format <format>'`);
  const rows = Array.isArray(value) ? value : [value];
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]).filter((k) => k !== 'Running');
  const table = [keys, ...rows.map((r) => keys.map((k) => String(r[k])))];
  const widths = keys.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  process.stdout.write(
    `${table
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join(' ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  );
}

/** Swift JSONEncoder with .prettyPrinted: 2 spaces, `"k" : v`, `\/`, `[\n\n]`, shuffled keys. */
function swiftJson(value, indent) {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[\n\n]';
    return `[\n${value.map((v) => inner + swiftJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort(() => Math.random() - 0.5);
    const body = keys.map((k) => `${inner}${JSON.stringify(k)} : ${swiftJson(value[k], inner)}`);
    return `{\n${body.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value).replaceAll('/', '\\/');
}

// ---------------------------------------------------------------- helpers

/** Faults as they are now (a long-running `tart run` sees changes made after it started). */
function liveFaults() {
  try {
    return readJson(path.join(FAKE, 'faults.json')) ?? {};
  } catch {
    return {};
  }
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
  if (error instanceof Exit) {
    if (error.stdout) process.stdout.write(error.stdout);
    if (error.stderr) process.stderr.write(error.stderr);
    process.exitCode = error.code;
  } else {
    process.stderr.write(`Error: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  }
});
