/**
 * `vms create` flags → the backend's options object. Core validates the result when the instance
 * is made (unknown keys named with the closest valid one, capabilities); here we only shape
 * values, reading each option's type from the backend's published JSON Schema.
 */
import { resolve } from 'node:path';
import {
  type BackendV1,
  InvalidOptionsError,
  type JsonSchema,
  optionsJsonSchema,
  parsePortSpec,
  propertiesAt,
  VmsError,
} from '@vms/core';
import { parseSizeMiB } from './units.js';
import { UsageError } from './usage-error.js';

export interface CreateFlags {
  image?: string | undefined;
  cpus?: string | undefined;
  memory?: string | undefined;
  disk?: string | undefined;
  port?: string[] | undefined;
  mount?: string[] | undefined;
  env?: string[] | undefined;
  label?: string[] | undefined;
  opt?: string[] | undefined;
  'options-json'?: string | undefined;
}

/** Which flag sets which option, for error messages. */
export const FLAG_OF_OPTION: Record<string, string> = {
  image: '--image',
  cpus: '--cpus',
  memoryMiB: '--memory',
  diskGiB: '--disk',
  ports: '--port',
  mounts: '--mount',
  env: '--env',
  labels: '--label',
};

/** The JSON Schema node of option `key` (its top-level property), if the schema has one. */
function optionSchema(
  json: JsonSchema | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const props = json?.properties;
  if (typeof props !== 'object' || props === null || !Object.hasOwn(props, key)) return undefined;
  const node: unknown = (props as Record<string, unknown>)[key];
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : undefined;
}

/** Whether an option takes text as it is (a string or a string enum), so `--opt k=v` keeps v. */
function takesText(node: Record<string, unknown> | undefined): boolean {
  if (!node) return false;
  if (node.type === 'string') return true;
  return Array.isArray(node.enum) && node.enum.every((v) => typeof v === 'string');
}

function keyValue(flag: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: expected KEY=VALUE`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function parseMount(
  text: string,
  cwd: string,
): { source: string; target: string; readOnly: boolean } {
  const parts = text.split(':');
  let mode: string | undefined;
  if (parts.length === 3) mode = parts.pop();
  if (
    parts.length !== 2 ||
    !parts[0] ||
    !parts[1] ||
    (mode !== undefined && mode !== 'ro' && mode !== 'rw')
  ) {
    throw new UsageError(
      `invalid --mount ${JSON.stringify(text)}: expected SRC:DST, SRC:DST:ro or SRC:DST:rw`,
    );
  }
  return { source: resolve(cwd, parts[0]), target: parts[1], readOnly: mode === 'ro' };
}

/** Path segments that would reach an object's prototype instead of an own property. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Splits an `--opt` key into path segments, refusing empty segments and the ones that name a
 * prototype (`__proto__`, `constructor`, `prototype`): user keys never walk off own properties.
 */
export function optionKeyPath(key: string): string[] {
  const path = key.split('.');
  const bad = path.find((segment) => segment === '' || FORBIDDEN_SEGMENTS.has(segment));
  if (bad !== undefined) {
    throw new InvalidOptionsError(
      [
        {
          path: key,
          message:
            bad === ''
              ? 'a dotted key cannot have an empty segment'
              : `${JSON.stringify(bad)} is not allowed in an option key`,
        },
      ],
      { hint: 'write the option path with dots between field names, e.g. --opt ssh.user=root' },
    );
  }
  return path;
}

/** Sets `value` at `path`, creating null-prototype objects and only ever following own properties. */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (!next || typeof next !== 'object' || Array.isArray(next)) {
      Object.defineProperty(node, key, {
        value: Object.create(null),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    node = node[key] as Record<string, unknown>;
  }
  Object.defineProperty(node, path[path.length - 1] as string, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Builds the options object for `backend` from the create flags. */
export function buildCreateOptions(
  backend: BackendV1,
  flags: CreateFlags,
  cwd: string,
): Record<string, unknown> {
  let options: Record<string, unknown> = Object.create(null);
  if (flags['options-json'] !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(flags['options-json']);
    } catch (error) {
      throw new UsageError(
        `invalid --options-json: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError('invalid --options-json: expected a JSON object');
    }
    options = Object.assign(Object.create(null), parsed) as Record<string, unknown>;
  }
  const json = optionsJsonSchema(backend.optionsSchema);
  for (const text of flags.opt ?? []) {
    const [key, raw] = keyValue('--opt', text);
    const path = optionKeyPath(key);
    let value: unknown = raw;
    const keepText = path.length === 1 && takesText(optionSchema(json, path[0] as string));
    if (!keepText) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    setPath(options, path, value);
  }
  if (flags.image !== undefined) options.image = flags.image;
  if (flags.cpus !== undefined) {
    const cpus = Number(flags.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0)
      throw new UsageError(
        `invalid --cpus ${JSON.stringify(flags.cpus)}: expected a positive number`,
      );
    options.cpus = cpus;
  }
  if (flags.memory !== undefined) {
    const mib = parseSizeMiB(flags.memory, 'M');
    if (mib === undefined)
      throw new UsageError(
        `invalid --memory ${JSON.stringify(flags.memory)}: expected a size like 512M or 2G`,
      );
    options.memoryMiB = Math.round(mib);
  }
  if (flags.disk !== undefined) {
    const mib = parseSizeMiB(flags.disk, 'G');
    if (mib === undefined)
      throw new UsageError(
        `invalid --disk ${JSON.stringify(flags.disk)}: expected a size like 10G`,
      );
    options.diskGiB = mib / 1024;
  }
  if (flags.port?.length)
    options.ports = [...((options.ports as unknown[]) ?? []), ...flags.port.map(parsePortSpec)];
  if (flags.mount?.length) {
    options.mounts = [
      ...((options.mounts as unknown[]) ?? []),
      ...flags.mount.map((m) => parseMount(m, cwd)),
    ];
  }
  if (flags.env?.length) {
    options.env = {
      ...(options.env as object),
      ...Object.fromEntries(flags.env.map((e) => keyValue('--env', e))),
    };
  }
  if (flags.label?.length) {
    options.labels = {
      ...(options.labels as object),
      ...Object.fromEntries(flags.label.map((l) => keyValue('--label', l))),
    };
  }
  return options;
}

/**
 * Adds a hint to an INVALID_OPTIONS error about create input: the flag that sets the field, the
 * positional for the name, or the backend's options for an unknown key.
 */
export function explainOptionsError(error: unknown, backend?: BackendV1): unknown {
  if (!VmsError.hasCode(error, 'INVALID_OPTIONS')) return error;
  if (error.hint) return error;
  const root = error.field.split('.')[0] ?? '';
  const first = error.issues[0];
  let hint: string;
  if (root === 'name') {
    hint = 'the instance name is the argument BACKEND:NAME (letters, digits, "_", "." and "-")';
  } else if (first?.message.startsWith('unknown option') && backend) {
    const json = optionsJsonSchema(backend.optionsSchema);
    const known = json ? propertiesAt(json, []) : undefined;
    hint = known
      ? `${backend.name} options: ${known.join(', ')} (vms backends --json lists their schema)`
      : `check --opt ${root}=…`;
  } else {
    hint = `check ${FLAG_OF_OPTION[root] ?? `--opt ${root}=…`}`;
  }
  return new InvalidOptionsError(error.issues, { hint, cause: error });
}
