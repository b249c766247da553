/**
 * Test harness: a throw-away user project with `vms` installed into its node_modules (a copy of
 * a built dist, as npm would lay it out) and chosen backend packages, and a runner that spawns
 * the installed `bin.cjs` with a clean environment.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const PACKAGES_DIR = dirname(CLI_DIR);
export const FIXTURES_DIR = fileURLToPath(new URL('../__fixtures__', import.meta.url));

export interface Project {
  dir: string;
  home: string;
  stateFile: string;
  callsFile: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export interface ProjectSettings {
  /** Fixture packages (src/__fixtures__/NAME) to install and list as dependencies. */
  fixtures?: string[];
  /** Workspace packages to link into node_modules (e.g. "docker" → @vms/docker). */
  workspace?: string[];
  /** Extra package.json fields. */
  manifest?: Record<string, unknown>;
  /** Install this CLI package dir instead of packages/cli (e.g. packages/vms for vms-all). */
  cliPackage?: { dir: string; name: string; bin: string; deps: string[]; extraDirs?: string[] };
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(realpathSync(target), path, 'dir');
}

export function makeProject(settings: ProjectSettings = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'vms-cli-project-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  const modules = join(dir, 'node_modules');
  const cli: NonNullable<ProjectSettings['cliPackage']> = settings.cliPackage ?? {
    dir: CLI_DIR,
    name: '@vms/cli',
    bin: 'dist/bin.cjs',
    deps: ['@vms/core'],
  };
  const installed = join(modules, cli.name);
  mkdirSync(installed, { recursive: true });
  cpSync(join(cli.dir, 'dist'), join(installed, 'dist'), { recursive: true });
  cpSync(join(cli.dir, 'package.json'), join(installed, 'package.json'));
  for (const extra of cli.extraDirs ?? []) {
    cpSync(join(cli.dir, extra), join(installed, extra), { recursive: true });
  }
  for (const dep of cli.deps) link(join(cli.dir, 'node_modules', dep), join(modules, dep));
  const dependencies: Record<string, string> = {};
  for (const fixture of settings.fixtures ?? []) {
    cpSync(join(FIXTURES_DIR, fixture), join(modules, fixture), { recursive: true });
    dependencies[fixture] = '*';
  }
  if ((settings.fixtures ?? []).length && !cli.deps.includes('@vms/core')) {
    link(join(PACKAGES_DIR, 'core'), join(modules, '@vms', 'core'));
  }
  for (const pkg of settings.workspace ?? []) {
    link(join(PACKAGES_DIR, pkg), join(modules, '@vms', pkg));
    dependencies[`@vms/${pkg}`] = '*';
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      { name: 'user-project', private: true, dependencies, ...settings.manifest },
      null,
      2,
    ),
  );
  const stateFile = join(dir, 'fake-state.json');
  const callsFile = join(dir, 'fake-calls.log');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    VMS_HOME: join(dir, 'vms-home'),
    FAKE_STATE_FILE: stateFile,
    FAKE_CALLS_FILE: callsFile,
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  };
  return {
    dir,
    home,
    stateFile,
    callsFile,
    bin: join(installed, cli.bin),
    env,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunSettings {
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Called once spawned, e.g. to send a signal when a condition holds. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void;
  timeoutMs?: number;
}

/** Runs the installed `vms` with `args`; resolves when it exits (killed at timeoutMs). */
export function runVms(
  project: Project,
  args: string[],
  settings: RunSettings = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [project.bin, ...args], {
      cwd: settings.cwd ?? project.dir,
      env: { ...project.env, ...settings.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), settings.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (settings.input !== undefined) child.stdin.end(settings.input);
    else child.stdin.end();
    settings.onSpawn?.(child);
  });
}

/**
 * Env that makes the installed `vms` believe it runs on Node `version`: a preload (written into
 * the project) that sets `process.versions.node`, all the executables' Node check reads.
 */
export function nodePosingAs(project: Project, version: string): NodeJS.ProcessEnv {
  const preload = join(project.dir, `node-${version}.cjs`);
  writeFileSync(
    preload,
    `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(version)} } });\n`,
  );
  return { NODE_OPTIONS: `--require ${preload}` };
}

/** Polls `check` until it returns true (deadline `timeoutMs`): waits on a real condition. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether something accepts TCP connections at the URL's host and port (a server still serves). */
export function acceptsConnections(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export const ANSI_PATTERN = new RegExp(`${String.fromCharCode(27)}\\[`);

/** SIGKILLs every process whose command line mentions `dir` (VMs a failed test left running). */
export function killProcessesUnder(dir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir))
        process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}

const PTY_RUNNER =
  'import pty, sys\nstatus = pty.spawn(sys.argv[1:])\nsys.exit(status >> 8 if status & 0xff == 0 else 128 + (status & 0x7f))';

/** Whether runVmsInPty can run here (python3's pty module gives the child a terminal). */
export function ptyUnavailableReason(): string | undefined {
  const path = (process.env.PATH ?? '').split(':');
  return path.some((dir) => existsSync(join(dir, 'python3')))
    ? undefined
    : 'python3 is not installed';
}

/** Runs the installed `vms` with a pseudo-terminal as stdin/stdout/stderr, feeding it `input`. */
export function runVmsInPty(
  project: Project,
  args: string[],
  input = '',
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PTY_RUNNER, process.execPath, project.bin, ...args], {
      cwd: project.dir,
      env: { ...project.env, TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Installs a second copy of the fake backend as package `pkg`, providing backend `backend`. */
export function addFakeBackend(project: Project, pkg: string, backend: string): void {
  const target = join(project.dir, 'node_modules', pkg);
  cpSync(join(FIXTURES_DIR, 'vms-backend-fake'), target, { recursive: true });
  const manifestFile = join(target, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(manifestFile, JSON.stringify({ ...manifest, name: pkg, fakeBackendName: backend }));
}
