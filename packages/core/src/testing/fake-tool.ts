/**
 * Hand-written fake tools: a node script modelled on the real tool (lima's fake-limactl, tart's
 * fake-tart), put first on PATH as the tool's command(s), with its own home under a fresh
 * temporary root. (For a fake made of a few lines of script or canned answers, see
 * `createFakeCli`.)
 *
 * The test plumbing such a script shares with its tests lives in a directory of its home (a
 * "log"): it appends every invocation as one `{"argv":[...]}` line to `calls.jsonl` and reads
 * `faults.json` (what to break) at every invocation.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { parseOptions } from '../options.js';
import * as z from '../zod.js';
import { killProcessesMentioning, processesMentioning, readProcFile } from './processes.js';

export interface FakeToolOptions {
  /** Names the temporary root (`vms-fake-NAME-…`). */
  name: string;
  /** What to put on PATH: command name → the fake script (an absolute path; made executable). */
  commands: Record<string, string>;
  /**
   * How a process shows it belongs to instance NAME, for `leftovers(keep)`: an exact word of its
   * command line (`argv`) or an exact entry of its environment (`env`). Default: the word NAME.
   */
  ownedBy?: (name: string) => { argv?: string[]; env?: string[] };
}

export interface FakeTool {
  /** The temporary root: holds `bin/` (first on PATH) and the tool's home (`home/`). */
  readonly root: string;
  readonly bin: string;
  /** The tool's home (LIMA_HOME, TART_HOME, …), for the backend's settings. */
  readonly home: string;
  /** Live processes started from the root (daemons, VMs, commands), but those of `keep` instances. */
  leftovers(keep?: string[]): number[];
  /** Kills the leftovers, restores PATH and removes the root. */
  cleanup(): void;
}

const commandName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name');
const fakeToolOptionsSchema = z
  .object({
    name: commandName,
    commands: z
      .record(
        commandName,
        z.string().refine((path) => isAbsolute(path), 'must be an absolute path to the script'),
      )
      .refine((commands) => Object.keys(commands).length > 0, 'must name at least one command'),
    ownedBy: z
      .custom<FakeToolOptions['ownedBy']>((value) => typeof value === 'function')
      .optional(),
  })
  .strict();

/**
 * Links each of `commands` into a fresh `<root>/bin`, puts it first on this process's PATH (so
 * that both the backend and the test's own `execFileSync('limactl', …)` find the fake) and makes
 * `<root>/home`. `cleanup()` undoes all of it.
 *
 * ```ts
 * const tool = installFakeTool({ name: 'lima', commands: { limactl: FAKE_LIMACTL } });
 * const backend = createLima({ limaHome: tool.home });
 * ```
 */
export function installFakeTool(options: FakeToolOptions): FakeTool {
  parseOptions(fakeToolOptionsSchema, options);
  const ownedBy =
    options.ownedBy ?? ((name: string): { argv?: string[]; env?: string[] } => ({ argv: [name] }));
  const root = fs.mkdtempSync(join(tmpdir(), `vms-fake-${options.name}-`));
  const bin = join(root, 'bin');
  const home = join(root, 'home');
  fs.mkdirSync(bin);
  fs.mkdirSync(home);
  for (const [command, script] of Object.entries(options.commands)) {
    fs.chmodSync(script, 0o755);
    fs.symlinkSync(script, join(bin, command));
  }
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}${delimiter}${oldPath ?? ''}`;
  return {
    root,
    bin,
    home,
    leftovers: (keep = []) =>
      processesMentioning(root).filter((pid) => {
        const argv = readProcFile(pid, 'cmdline').split('\0');
        const env = readProcFile(pid, 'environ').split('\0');
        return !keep.some((name) => {
          const owner = ownedBy(name);
          return (
            (owner.argv ?? []).some((word) => argv.includes(word)) ||
            (owner.env ?? []).some((entry) => env.includes(entry))
          );
        });
      }),
    cleanup: () => {
      killProcessesMentioning(root);
      process.env.PATH = oldPath;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface FakeToolLog<Faults extends object> {
  /** The plumbing directory. */
  readonly dir: string;
  /** Every recorded invocation's argv (without the program name), in order. */
  calls(): string[][];
  clearCalls(): void;
  /** Replaces `faults.json`: the fake reads it at every invocation (running ones at will). */
  setFaults(faults: Faults): void;
  /** Removes `faults.json`: nothing is broken any more. */
  clearFaults(): void;
}

/**
 * The plumbing a fake tool shares with its tests in `dir` (made if missing): the calls it
 * recorded (`calls.jsonl`, one `{"argv":[...]}` a line) and the faults it reads (`faults.json`).
 */
export function fakeToolLog<Faults extends object>(dir: string): FakeToolLog<Faults> {
  fs.mkdirSync(dir, { recursive: true });
  const callsFile = join(dir, 'calls.jsonl');
  const faultsFile = join(dir, 'faults.json');
  return {
    dir,
    calls: () =>
      fs.existsSync(callsFile)
        ? fs
            .readFileSync(callsFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => (JSON.parse(line) as { argv: string[] }).argv)
        : [],
    clearCalls: () => fs.rmSync(callsFile, { force: true }),
    setFaults: (faults) => fs.writeFileSync(faultsFile, JSON.stringify(faults)),
    clearFaults: () => fs.rmSync(faultsFile, { force: true }),
  };
}
