/**
 * The colima argument lists, as pure functions of the options and the colima version.
 *
 * `start` both creates and starts (colima has no create); every start passes the options again
 * (colima keeps unchanged ones from the profile's config and warns about the fixed ones) and
 * turns off colima's changes outside its own directory: `--activate=false` (no switch of the
 * user's docker context) and `--ssh-config=false` (no Include in ~/.ssh/config).
 */
import { InvalidOptionsError } from '@vms/core';
import { compareVersions } from '../parse.js';
import type { ColimaOptions } from './options.js';

/** `--cpus` since 0.8.2 (`--cpu` stays as a hidden alias); `--cpu` before. */
export const CPUS_FLAG_SINCE = '0.8.2';
/** `--memory` is a float (GiB) since 0.8.1, an integer before. */
export const FLOAT_MEMORY_SINCE = '0.8.1';
/** `status --json` since 0.8.1. */
export const STATUS_JSON_SINCE = '0.8.1';
/** Runtimes `incus` and `none` since 0.7.0. */
export const INCUS_SINCE = '0.7.0';

const since = (version: string, v: string) => compareVersions(version, v) >= 0;

/** pflag's stringToString reads its value as CSV: quote a value holding `,` or `"`. */
function csv(field: string): string {
  return /[,"]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

export function colimaStartArgs(name: string, o: ColimaOptions, version = '0.8.4'): string[] {
  if ((o.runtime === 'incus' || o.runtime === 'none') && !since(version, INCUS_SINCE)) {
    throw new InvalidOptionsError([
      { path: 'runtime', message: `colima ${version} has no runtime ${o.runtime} (0.7.0+)` },
    ]);
  }
  let memory: string | undefined;
  if (o.memoryMiB !== undefined) {
    const gib = o.memoryMiB / 1024;
    if (!Number.isInteger(gib) && !since(version, FLOAT_MEMORY_SINCE)) {
      throw new InvalidOptionsError([
        {
          path: 'memoryMiB',
          message: `colima ${version} takes whole GiB of memory (fractions since 0.8.1): use a multiple of 1024`,
        },
      ]);
    }
    memory = String(Math.round(gib * 1000) / 1000);
  }
  const cpusFlag = since(version, CPUS_FLAG_SINCE) ? '--cpus' : '--cpu';
  return [
    'start',
    '--profile',
    name,
    '--runtime',
    o.runtime,
    ...(o.cpus === undefined ? [] : [cpusFlag, String(o.cpus)]),
    ...(memory === undefined ? [] : ['--memory', memory]),
    ...(o.diskGiB === undefined ? [] : ['--disk', String(o.diskGiB)]),
    ...(o.arch ? ['--arch', o.arch] : []),
    ...(o.vmType ? ['--vm-type', o.vmType] : []),
    ...(o.mountType ? ['--mount-type', o.mountType] : []),
    ...o.mounts.flatMap((m) => ['--mount', `${m.source}:${m.target}${m.readOnly ? '' : ':w'}`]),
    ...Object.entries(o.env).flatMap(([k, v]) => ['--env', csv(`${k}=${v}`)]),
    ...o.dns.flatMap((ip) => ['--dns', ip]),
    ...(o.kubernetes ? ['--kubernetes'] : []),
    '--activate=false',
    '--ssh-config=false',
    ...o.startArgs,
  ];
}

export function colimaStopArgs(name: string, force: boolean): string[] {
  return ['stop', '--profile', name, ...(force ? ['--force'] : [])];
}

/** `--force`: no yes/no prompt. */
export function colimaDeleteArgs(name: string): string[] {
  return ['delete', '--profile', name, '--force'];
}

export function colimaStatusArgs(name: string, version = '0.8.4'): string[] {
  return since(version, STATUS_JSON_SINCE)
    ? ['status', '--profile', name, '--json']
    : ['status', '--profile', name, '--extended'];
}

export interface ColimaShellIo {
  cwd?: string;
  env?: Record<string, string>;
  user?: string;
}

/**
 * `colima ssh --profile NAME -- argv…`. colima has no working-directory, environment or user
 * flags: the command is wrapped (`sudo -n -u USER --`, `env K=V`, `sh -c 'cd -- "$1"…'`), argv-safe
 * (limactl shell quotes each word).
 */
export function colimaSshArgs(name: string, argv: string[], io: ColimaShellIo = {}): string[] {
  let command = argv;
  if (io.cwd !== undefined) {
    command = [
      'sh',
      '-c',
      'cd -- "$1" || exit 126; shift; exec "$@"',
      'vms-exec',
      io.cwd,
      ...command,
    ];
  }
  const env = Object.entries(io.env ?? {});
  if (env.length > 0) command = ['env', ...env.map(([k, v]) => `${k}=${v}`), ...command];
  if (io.user !== undefined) command = ['sudo', '-n', '-u', io.user, '--', ...command];
  return ['ssh', '--profile', name, '--', ...command];
}
