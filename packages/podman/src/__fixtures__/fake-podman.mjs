#!/usr/bin/env node
/**
 * A faithful fake of `podman machine` for tests (podman machine cannot run here: it refuses root
 * and needs nested virtualisation), following podman 5.8.2 and 4.x as read in podman's source
 * (cmd/podman/machine/{init,start,stop,rm,ssh,list,inspect}.go) and observed podman 4.3.1:
 *
 *   FAKE_PODMAN_VERSION   "5.8.2" (default) or a 4.x version such as "4.9.5": switches flag
 *                         spellings (--image vs --image-path), JSON shapes and error texts.
 *   FAKE_PODMAN_HOME      directory holding machines.json (required).
 *   FAKE_PODMAN_LOG       file receiving one JSON line per invocation (argv).
 *   FAKE_PODMAN_FAULT     "<mode>:<subcommand>", mode hang | crash | malformed, e.g. "hang:start".
 *   FAKE_PODMAN_AS_ROOT   "1": refuse every machine command like podman does as root.
 *
 * `machine ssh` runs the command locally with `sh -c` (what sshd does with the joined words).
 * Output conventions: list JSON is 4-space indented with no trailing newline; inspect JSON is
 * 5-space indented with a trailing newline; errors are "Error: ..." on stderr, exit 125.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

const version = process.env.FAKE_PODMAN_VERSION || '5.8.2';
const major = Number(version.split('.')[0]);
const home = process.env.FAKE_PODMAN_HOME;
const argv = process.argv.slice(2);
if (process.env.FAKE_PODMAN_LOG)
  appendFileSync(process.env.FAKE_PODMAN_LOG, `${JSON.stringify(argv)}\n`);

function fail(message, code = 125) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(code);
}

if (argv[0] === '--version' || argv[0] === '-v') {
  process.stdout.write(`podman version ${version}\n`);
  process.exit(0);
}
if (argv[0] !== 'machine') fail(`unrecognized command \`podman ${argv[0] ?? ''}\``);
const sub = argv[1] === 'ls' ? 'list' : argv[1];
const args = argv.slice(2);
if (process.env.FAKE_PODMAN_AS_ROOT === '1')
  fail(`cannot run command "podman machine ${argv[1]}" as root`);
if (!home) fail('FAKE_PODMAN_HOME is not set');

const [faultMode, faultSub] = (process.env.FAKE_PODMAN_FAULT || '').split(':');
if (faultSub === sub) {
  if (faultMode === 'hang') setInterval(() => {}, 1 << 30);
  if (faultMode === 'crash') {
    process.stderr.write(
      'panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n',
    );
    process.exit(2);
  }
}
function load() {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, 'machines.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
}
function save(machines) {
  const file = path.join(home, 'machines.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(machines));
  renameSync(`${file}.tmp`, file);
}
const now = () => new Date().toISOString();
const DEFAULT = 'podman-machine-default';
const notExist = (name) => fail(`${name}: VM does not exist`);

/** Splits flags (before the first positional) from positionals; value flags take the next word. */
function parseFlags(words, valueFlags) {
  const flags = {};
  const rest = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      rest.push(...words.slice(i + 1));
      break;
    }
    if (w.startsWith('-')) {
      const [k, inline] = w.split('=', 2);
      if (valueFlags.includes(k)) {
        flags[k] = inline ?? words[++i];
      } else if (
        [
          '--rootful',
          '--now',
          '-f',
          '--force',
          '--user-mode-networking',
          '--save-image',
          '--save-ignition',
          '-n',
          '--noheading',
          '-q',
          '--quiet',
        ].includes(k)
      ) {
        flags[k] = true;
      } else {
        fail(`unknown flag: ${k}`);
      }
    } else {
      rest.push(w);
    }
  }
  return { flags, rest };
}

function main() {
  const machines = load();
  switch (sub) {
    case 'init': {
      const valueFlags = [
        '--cpus',
        '--memory',
        '-m',
        '--disk-size',
        '--image-path',
        '--username',
        '--timezone',
        '-v',
        '--volume',
      ];
      if (major >= 5) valueFlags.push('--image');
      const { flags, rest } = parseFlags(args, valueFlags);
      const name = rest[0] ?? DEFAULT;
      if (name.length > 30) fail(`machine name "${name}" must be 30 characters or less`);
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
        fail(
          `invalid name "${name}": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`,
        );
      if (machines[name])
        fail(major >= 6 ? `machine "${name}" already exists` : `${name}: VM already exists`);
      if (major >= 5 && flags['--image-path'])
        process.stderr.write('Flag --image-path has been deprecated, use --image instead\n');
      const image = flags['--image'] ?? flags['--image-path'];
      const created = now();
      machines[name] = {
        name,
        cpus: Number(flags['--cpus'] ?? 2),
        memoryMiB: Number(flags['--memory'] ?? flags['-m'] ?? 2048),
        diskGiB: Number(flags['--disk-size'] ?? 100),
        image: image ?? null,
        rootful: Boolean(flags['--rootful']),
        created,
        lastUp: major >= 5 ? '0001-01-01T00:00:00Z' : created,
        state: major >= 5 ? 'stopped' : '',
        port: 40000 + Object.keys(machines).length,
      };
      save(machines);
      if (major >= 5)
        process.stdout.write(
          `Looking up Podman Machine image at ${image ?? `quay.io/podman/machine-os:${version.slice(0, 3)}`} to create VM\n`,
        );
      process.stdout.write(
        `Machine init complete\nTo start your machine run:\n\n\tpodman machine start${name === DEFAULT ? '' : ` ${name}`}\n\n`,
      );
      return;
    }
    case 'start': {
      const name = parseFlags(args, []).rest[0] ?? DEFAULT;
      const m = machines[name];
      if (!m) notExist(name);
      if (m.state === 'running') fail(`unable to start "${name}": already running`);
      const other = Object.values(machines).find((o) => o.state === 'running' && o.name !== name);
      if (other)
        fail(
          `unable to start "${name}": ${other.name} already starting or running: only one VM can be active at a time`,
        );
      process.stdout.write(`Starting machine "${name}"\n`);
      m.state = 'running';
      m.lastUp = now();
      save(machines);
      process.stdout.write(`Machine "${name}" started successfully\n`);
      return;
    }
    case 'stop': {
      const name = parseFlags(args, []).rest[0] ?? DEFAULT;
      const m = machines[name];
      if (!m) notExist(name);
      if (m.state === 'running') m.lastUp = now();
      m.state = 'stopped';
      save(machines);
      process.stdout.write(`Machine "${name}" stopped successfully\n`);
      return;
    }
    case 'rm': {
      const { flags, rest } = parseFlags(args, []);
      const name = rest[0] ?? DEFAULT;
      const m = machines[name];
      if (!m) notExist(name);
      const force = flags['-f'] || flags['--force'];
      if (!force) {
        if (m.state === 'running') fail(`running vm "${name}" cannot be destroyed`);
        process.stdout.write(
          `The following files will be deleted:\n\n${home}/${name}.json\n\nAre you sure you want to continue? [y/N] `,
        );
        let input = '';
        process.stdin.on('data', (d) => {
          input += d;
        });
        process.stdin.on('end', () => {
          if (!input) fail('EOF');
          if (!/^y/i.test(input.trim())) process.exit(0);
          delete machines[name];
          save(machines);
        });
        return;
      }
      delete machines[name];
      save(machines);
      return;
    }
    case 'ssh': {
      // Flags only before NAME (SetInterspersed(false)); the first word is the machine when it exists.
      let i = 0;
      let username;
      while (i < args.length && args[i].startsWith('-')) {
        if (args[i] === '--username') username = args[++i];
        else if (args[i].startsWith('--username=')) username = args[i].slice('--username='.length);
        else fail(`unknown flag: ${args[i]}`);
        i++;
      }
      let words = args.slice(i);
      let name = DEFAULT;
      if (words.length && machines[words[0]]) {
        name = words[0];
        words = words.slice(1);
      }
      const m = machines[name];
      if (!m) fail(`vm ${name} not found: ${name}: VM does not exist`);
      if (m.state !== 'running') fail(`vm "${name}" is not running`);
      if (!words.length) fail('interactive sessions are not supported by the fake');
      const child = spawn('sh', ['-c', words.join(' ')], {
        stdio: ['inherit', 'inherit', 'inherit'],
        env: { ...process.env, FAKE_PODMAN_SSH_USER: username ?? 'core' },
      });
      const forward = (sig) => () => child.kill(sig);
      process.on('SIGTERM', forward('SIGHUP'));
      process.on('SIGINT', forward('SIGHUP'));
      child.on('exit', (code, signal) => process.exit(code ?? (signal ? 255 : 0)));
      return;
    }
    case 'list': {
      const { flags } = parseFlags(args, ['--format']);
      const list = Object.values(machines)
        .sort(
          (a, b) =>
            (a.state === 'running' ? -1 : 0) - (b.state === 'running' ? -1 : 0) ||
            b.lastUp.localeCompare(a.lastUp),
        )
        .map((m) => {
          const entry = {
            Name: m.name,
            Default: m.name === DEFAULT,
            Created: m.created,
            Running: m.state === 'running',
            Starting: false,
            LastUp: m.lastUp,
            Stream: m.image ? 'custom' : 'default',
            VMType: 'qemu',
            CPUs: m.cpus,
            Memory: String(m.memoryMiB * 1024 * 1024),
            DiskSize: String(m.diskGiB * 1024 * 1024 * 1024),
            Port: m.port,
            RemoteUsername: 'core',
            IdentityPath: major >= 5 ? `${home}/machine` : `${home}/.ssh/${m.name}`,
          };
          if (major >= 5) {
            entry.Swap = '0';
            entry.UserModeNetworking = false;
          }
          return entry;
        });
      if (faultMode === 'malformed' && faultSub === 'list') {
        process.stdout.write('[\n    {\n        "Name": "');
        return;
      }
      if (flags['--format'] === 'json') {
        process.stdout.write(JSON.stringify(list, null, 4)); // no trailing newline (json.MarshalIndent + Print)
        return;
      }
      process.stdout.write(
        'NAME        VM TYPE     CREATED     LAST UP     CPUS        MEMORY      DISK SIZE\n',
      );
      for (const m of list)
        process.stdout.write(
          `${m.Name}${m.Default ? '*' : ''}  qemu  ${m.Created}  ${m.Running ? 'Currently running' : 'Never'}  ${m.CPUs}  ${m.Memory}  ${m.DiskSize}\n`,
        );
      return;
    }
    case 'inspect': {
      const { rest } = parseFlags(args, ['--format']);
      const names = rest.length ? rest : [DEFAULT];
      const found = [];
      const errors = [];
      for (const name of names) {
        const m = machines[name];
        if (!m) {
          errors.push(`${name}: VM does not exist`);
          continue;
        }
        const common = {
          Created: m.created,
          LastUp: m.lastUp,
          Name: m.name,
          Resources: {
            CPUs: m.cpus,
            DiskSize: m.diskGiB,
            Memory: m.memoryMiB,
            USBs: major >= 5 ? [] : null,
          },
          SSHConfig: {
            IdentityPath: major >= 5 ? `${home}/machine` : `${home}/.ssh/${m.name}`,
            Port: m.port,
            RemoteUsername: 'core',
          },
          State: m.state,
          UserModeNetworking: false,
          Rootful: m.rootful,
        };
        found.push(
          major >= 5
            ? {
                ConfigDir: { Path: `${home}/config/qemu` },
                ConnectionInfo: {
                  PodmanSocket: { Path: `${home}/run/${m.name}-api.sock` },
                  PodmanPipe: null,
                },
                ...common,
                Rosetta: false,
              }
            : {
                ConfigPath: { Path: `${home}/config/qemu/${m.name}.json` },
                Image: {
                  IgnitionFilePath: { Path: `${home}/config/qemu/${m.name}.ign` },
                  ImageStream: m.image ? 'custom' : 'testing',
                  ImagePath: {
                    Path: m.image ?? `${home}/data/qemu/${m.name}_fedora-coreos-qemu.x86_64.qcow2`,
                  },
                },
                ...common,
              },
        );
      }
      if (faultMode === 'malformed' && faultSub === 'inspect') {
        process.stdout.write('[\n     {\n          "Name": ');
        process.exit(0);
      }
      process.stdout.write(`${JSON.stringify(found, null, 5)}\n`);
      if (errors.length) {
        for (const e of errors.slice(0, -1)) process.stderr.write(`Error: ${e}\n`);
        fail(errors[errors.length - 1]);
      }
      return;
    }
    default:
      fail(`unrecognized command \`podman machine ${argv[1] ?? ''}\``);
  }
}

// A hanging fault keeps the process alive (the interval above); everything else runs now.
if (!(faultMode === 'hang' && faultSub === sub)) main();
