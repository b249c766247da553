/**
 * The limactl argument lists, as pure functions of the options and the limactl version.
 */
import type { LimaOptions } from './options.js';
import { compareVersions } from './parse.js';

/** `--cpus/--memory/--disk` flags (lima ≥ 1.0); older versions get the same through `--set`. */
const RESOURCE_FLAGS_SINCE = '1.0.0';
/** The RFC-opaque `template:NAME` form exists since 2.0; `template://NAME` works everywhere. */
const OPAQUE_TEMPLATE_SINCE = '2.0.0';

/** A template name, locator, file or URL → what `limactl create` takes. */
export function templateLocator(template: string, version = '0.0.0'): string {
  if (template.startsWith('template://')) return template;
  if (template.startsWith('template:')) {
    return compareVersions(version, OPAQUE_TEMPLATE_SINCE) >= 0
      ? template
      : `template://${template.slice('template:'.length)}`;
  }
  if (/^https?:\/\//.test(template) || template === '-') return template;
  if (template.includes('/') || /\.ya?ml$/.test(template)) return template;
  return `template://${template}`;
}

/** GiB as limactl prints them: at most 3 decimals, no trailing zeros. */
function gib(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

export function createArgs(name: string, options: LimaOptions, version = '0.0.0'): string[] {
  const flags = compareVersions(version, RESOURCE_FLAGS_SINCE) >= 0;
  const memoryGiB = options.memoryMiB === undefined ? undefined : gib(options.memoryMiB / 1024);
  const diskGiB = options.diskGiB === undefined ? undefined : gib(options.diskGiB);
  const resources: string[] = [];
  if (flags) {
    if (options.cpus !== undefined) resources.push('--cpus', String(options.cpus));
    if (memoryGiB !== undefined) resources.push('--memory', memoryGiB);
    if (diskGiB !== undefined) resources.push('--disk', diskGiB);
  } else {
    if (options.cpus !== undefined) resources.push('--set', `.cpus = ${options.cpus}`);
    if (memoryGiB !== undefined) resources.push('--set', `.memory = "${memoryGiB}GiB"`);
    if (diskGiB !== undefined) resources.push('--set', `.disk = "${diskGiB}GiB"`);
  }
  const sets: string[] = [];
  for (const mount of options.mounts) {
    sets.push(
      `.mounts += [${JSON.stringify({ location: mount.source, mountPoint: mount.target, writable: !mount.readOnly })}]`,
    );
  }
  for (const port of options.ports) {
    sets.push(
      `.portForwards += [${JSON.stringify({
        guestPort: port.guest,
        hostPort: port.host || port.guest,
        hostIP: port.hostIp,
        proto: port.protocol,
      })}]`,
    );
  }
  for (const [key, value] of Object.entries(options.env))
    sets.push(`.env.${key} = ${JSON.stringify(value)}`);
  sets.push(...options.set);
  return [
    'create',
    '--tty=false',
    '--name',
    name,
    ...(options.vmType ? ['--vm-type', options.vmType] : []),
    ...(options.arch ? ['--arch', options.arch] : []),
    ...resources,
    ...sets.flatMap((expr) => ['--set', expr]),
    ...options.createArgs,
    templateLocator(options.template, version),
  ];
}

/** `limactl start`, with lima's own timeout a little inside ours so that lima reports first. */
export function startArgs(name: string, options: LimaOptions, timeoutSeconds: number): string[] {
  return [
    'start',
    '--tty=false',
    '--timeout',
    `${Math.max(1, Math.floor(timeoutSeconds))}s`,
    ...options.startArgs,
    name,
  ];
}

export interface ShellIo {
  cwd?: string;
  env?: Record<string, string>;
  user?: string;
}

/** `limactl shell`: flags before NAME, the command after it, argv-safe. */
export function shellArgs(name: string, argv: string[], io: ShellIo): string[] {
  let command = argv;
  const env = Object.entries(io.env ?? {});
  if (env.length > 0) command = ['env', ...env.map(([k, v]) => `${k}=${v}`), ...command];
  if (io.user !== undefined) command = ['sudo', '-n', '-u', io.user, '--', ...command];
  return [
    'shell',
    '--tty=false',
    ...(io.cwd === undefined ? [] : ['--workdir', io.cwd]),
    name,
    ...command,
  ];
}
