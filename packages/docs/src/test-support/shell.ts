/**
 * Running a README's shell block line by line, as a user types it: each line in `bash` (with
 * `pipefail`), in the same directory and environment (a temp global npm prefix first on PATH),
 * so each line's exit code and output can be checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface LineResult {
  line: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command lines of a shell block (blank lines dropped). */
export function shellLines(code: string): string[] {
  return code.split('\n').filter((l) => l.trim() !== '');
}

export interface ShellOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs?: number;
}

/** Starts one line in bash; stdin is closed (a line that reads it sees end of file). */
export function spawnLine(line: string, options: ShellOptions): ChildProcess {
  return spawn('bash', ['-o', 'pipefail', '-c', line], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: a timeout ends everything the line started
  });
}

export async function runLine(line: string, options: ShellOptions): Promise<LineResult> {
  const child = spawnLine(line, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // gone
    }
  }, options.timeoutMs ?? 240_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { line, code, stdout, stderr };
}

/** Runs the lines one after another; stops at the first that fails (as `set -e` would). */
export async function runLines(lines: string[], options: ShellOptions): Promise<LineResult[]> {
  const out: LineResult[] = [];
  for (const line of lines) {
    const r = await runLine(line, options);
    out.push(r);
    if (r.code !== 0) break;
  }
  return out;
}

/**
 * A line that serves until interrupted (`vms ui`, `vms mcp --http`): started, read until its
 * output matches `ready`, then `use(match)` runs, then it gets SIGINT (Ctrl-C) and must exit.
 */
export async function serveLine<T>(
  line: string,
  options: ShellOptions & { ready: RegExp },
  use: (match: RegExpMatchArray, output: () => string) => Promise<T>,
): Promise<{ value: T; code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawnLine(line, options);
  let output = '';
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`\`${line}\` printed nothing matching ${options.ready}: ${output}`)),
      options.timeoutMs ?? 120_000,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = output.match(options.ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(([c]) => {
      clearTimeout(timer);
      reject(new Error(`\`${line}\` exited (${c}) before it was ready: ${output}`));
    });
  });
  try {
    const value = await use(match, () => output);
    // Ctrl-C goes to the foreground process group: bash and what it runs.
    process.kill(-(child.pid as number), 'SIGINT');
    const [code, signal] = await exited;
    return { value, code, signal, output };
  } finally {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // exited
    }
  }
}
