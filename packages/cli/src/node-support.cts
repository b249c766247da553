/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
// The Node versions `vms` runs on, checked by the executables before any ES module loads: on an
// older Node the user gets one clear line instead of whatever the first unsupported feature throws.
// CommonJS and dependency-free so that any Node can load it.

/** Exit code for "this Node cannot run vms": EXIT.unavailable (exit-codes.ts), kept literal here
 * because this file loads before, and without, any of the CLI's modules. */
const EXIT_UNSUPPORTED_NODE = 4;

/** Set to 1 to run on a Node outside `engines` anyway (at the user's own risk). */
const OVERRIDE_ENV = 'VMS_IGNORE_NODE_VERSION';

function parts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((p) => Number.parseInt(p, 10) || 0);
}

/**
 * Whether `version` (e.g. "20.18.1") satisfies `range`. Only the form our `engines` use is
 * understood: `>=MAJOR[.MINOR[.PATCH]]`; any other range is not ours to judge and passes.
 */
function satisfies(version: string, range: string): boolean {
  const match = /^\s*>=\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(range);
  if (!match?.[1]) return true;
  const have = parts(version);
  const need = parts(match[1]);
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Writes one error line and a hint, and sets exit code 4, when this Node is outside `range`
 * (unless the user set VMS_IGNORE_NODE_VERSION=1); returns whether the command may go on.
 */
function checkNode(command: string, range: string): boolean {
  const version = process.versions.node;
  if (satisfies(version, range) || process.env[OVERRIDE_ENV] === '1') return true;
  process.stderr.write(
    `error: ${command} needs Node ${range}; this is Node ${version} (${process.execPath})\n` +
      `hint: install Node 24 or 22 LTS (https://nodejs.org), or set ${OVERRIDE_ENV}=1 to try anyway\n`,
  );
  process.exitCode = EXIT_UNSUPPORTED_NODE;
  return false;
}

export = { checkNode };
