/**
 * Instance options shared by every backend, defined once. Backends extend `commonInstanceOptions`
 * with their own fields (`commonInstanceOptions.extend({ image: z.string() })`).
 */
import * as z4 from 'zod/v4/core';
import { closestMatch } from './closest.js';
import { InvalidOptionsError, type IssuePath } from './errors.js';
import { optionsJsonSchema, propertiesAt, unknownKeyIssues } from './options-json-schema.js';
import * as z from './zod.js';

export const portForwardSchema = z
  .object({
    /** Port inside the instance. */
    guest: z.number().int().min(1).max(65535),
    /** Port on the host; omitted or 0 picks a free one. */
    host: z.number().int().min(0).max(65535).optional(),
    /** Host address to bind. Loopback unless the user explicitly asks for more. */
    hostIp: z.string().min(1).default('127.0.0.1'),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
  })
  .strict();
export type PortForward = z.infer<typeof portForwardSchema>;

export const mountSchema = z
  .object({
    source: z.string().min(1),
    target: z.string().regex(/^\//, 'must be an absolute path in the guest'),
    readOnly: z.boolean().default(false),
  })
  .strict();
export type Mount = z.infer<typeof mountSchema>;

export const userDataSchema = z
  .object({
    hostname: z
      .string()
      .regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'must be a valid hostname')
      .optional(),
    /** Public keys allowed to log in (OpenSSH format). */
    sshAuthorizedKeys: z.array(z.string().min(1)).default([]),
    /** Extra cloud-config YAML, for backends that use cloud-init. */
    cloudConfig: z.string().optional(),
  })
  .strict();
export type UserData = z.infer<typeof userDataSchema>;

/**
 * The options every backend shares. Strict: an unknown key is an error, never dropped. Extend it
 * (`commonInstanceOptions.extend({ image: z.string() })`); the extension stays strict.
 */
export const commonInstanceOptions = z.strictObject({
  cpus: z.number().positive().max(1024).optional(),
  memoryMiB: z.number().int().positive().optional(),
  diskGiB: z.number().positive().optional(),
  ports: z.array(portForwardSchema).default([]),
  mounts: z.array(mountSchema).default([]),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid variable name'), z.string())
    .default({}),
  labels: z.record(z.string(), z.string()).default({}),
  userData: userDataSchema.optional(),
});
export type CommonInstanceOptions = z.infer<typeof commonInstanceOptions>;

/**
 * For a backend whose guests are not set up through cloud-init: a refinement refusing `userData`
 * (INVALID_OPTIONS naming the field) with `message`, which says what to use instead.
 * `commonInstanceOptions.extend({ … }).superRefine(refuseUserData('use `provision` instead'))`
 */
export function refuseUserData(
  message: string,
): (options: { userData?: unknown }, ctx: z.RefinementCtx) => void {
  return (options, ctx) => {
    if (options.userData !== undefined)
      ctx.addIssue({ code: 'custom', path: ['userData'], message });
  };
}

/** Backend names (`docker`, `podman-machine`): the part before the colon of `backend:name`. */
export const BACKEND_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/i;

/** Instance names: what every backend accepts (docker, podman, qemu dirs, lima, tart). */
export const INSTANCE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function validateInstanceName(name: unknown): string {
  if (typeof name !== 'string' || !INSTANCE_NAME_PATTERN.test(name)) {
    throw new InvalidOptionsError([
      {
        path: 'name',
        message: `${JSON.stringify(name)} is not a valid instance name (letters, digits, "_", "." and "-", starting with a letter or digit, at most 63 characters)`,
      },
    ]);
  }
  return name;
}

/**
 * Where `input` holds an own `__proto__` key (as JSON.parse makes them), e.g. `env.__proto__`.
 * zod strips such keys silently, so a user's key would neither arrive nor be refused.
 */
function protoKeyPath(input: unknown, prefix: string[], seen: Set<object>): string[] | undefined {
  if (input === null || typeof input !== 'object' || seen.has(input)) return undefined;
  seen.add(input);
  if (!Array.isArray(input) && Object.hasOwn(input, '__proto__')) return [...prefix, '__proto__'];
  for (const [key, value] of Object.entries(input)) {
    const found = protoKeyPath(value, [...prefix, key], seen);
    if (found) return found;
  }
  return undefined;
}

/**
 * A schema built on first use. Schemas only some calls need (a lock's options, a command's
 * flags) then cost nothing at import: building zod schemas is most of a module's load time.
 */
export function lazySchema<S>(make: () => S): () => S {
  let schema: S | undefined;
  return () => {
    schema ??= make();
    return schema;
  };
}

/** Validates `input` with `schema`, throwing InvalidOptionsError naming every bad field. */
export function parseOptions<S extends z4.$ZodType>(
  schema: S,
  input: unknown,
  prefix = '',
): z4.output<S> {
  const proto = protoKeyPath(input, prefix ? [prefix] : [], new Set());
  if (proto) {
    throw new InvalidOptionsError([
      { path: proto.join('.'), message: '"__proto__" is not allowed as a key' },
    ]);
  }
  const result = z4.safeParse(schema, input ?? {});
  if (result.success) return result.data;
  throw new InvalidOptionsError(zodIssues(result.error, prefix, schema));
}

/**
 * Validates a user's instance options with a backend's schema: unknown keys first (at any depth,
 * each named with the closest valid key, whether or not the schema is strict), then the schema.
 */
export function parseInstanceOptions<S extends z4.$ZodType>(
  schema: S,
  input: unknown,
): z4.output<S> {
  const proto = protoKeyPath(input, [], new Set());
  if (proto) {
    throw new InvalidOptionsError([
      { path: proto.join('.'), message: '"__proto__" is not allowed as a key' },
    ]);
  }
  const json = optionsJsonSchema(schema);
  const unknown = json ? unknownKeyIssues(json, input ?? {}) : [];
  const result = z4.safeParse(schema, input ?? {});
  if (result.success && unknown.length === 0) return result.data;
  const others = result.success
    ? []
    : zodIssues(result.error).filter((i) => !unknown.some((u) => u.path === i.path));
  throw new InvalidOptionsError([...unknown, ...others]);
}

/**
 * Validates options read back from an instance record (core wrote them from a valid parse): the
 * schema alone, without the JSON Schema that the unknown-key check of user input needs, which
 * would cost every attach (each CLI command) a few milliseconds. When they do not validate, the
 * error is the one user input gets (unknown keys with the closest valid one, then the schema's).
 */
export function parseRecordedOptions<S extends z4.$ZodType>(
  schema: S,
  recorded: unknown,
): z4.output<S> {
  if (!protoKeyPath(recorded, [], new Set())) {
    const result = z4.safeParse(schema, recorded ?? {});
    if (result.success) return result.data;
  }
  return parseInstanceOptions(schema, recorded);
}

/**
 * zod issues as dotted paths. An unrecognized key is reported at its own path, with the closest
 * valid key when `schema` is given (`unknown option (did you mean maxInstances?)`).
 */
export function zodIssues(error: z4.$ZodError, prefix = '', schema?: z4.$ZodType): IssuePath[] {
  return error.issues.flatMap((issue) => {
    const at = (extra: string[] = []) =>
      [prefix, ...issue.path.map(String), ...extra].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const json = schema ? optionsJsonSchema(schema) : undefined;
      const known = json
        ? propertiesAt(
            json,
            issue.path.map((k) => (typeof k === 'number' ? k : String(k))),
          )
        : undefined;
      return issue.keys.map((key) => {
        const suggestion = known ? closestMatch(key, known) : undefined;
        return {
          path: at([key]),
          message: suggestion ? `unknown option (did you mean ${suggestion}?)` : 'unknown option',
          ...(suggestion ? { suggestion: at([suggestion]) } : {}),
        };
      });
    }
    return [{ path: at(), message: issue.message }];
  });
}

/** Parses docker-style port specs: "8080:80", "127.0.0.1:8080:80/udp", "80" (host port auto). */
export function parsePortSpec(spec: string): PortForward {
  const m =
    /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d{0,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/.exec(
      spec.trim(),
    );
  if (!m) {
    throw new InvalidOptionsError([
      {
        path: 'ports',
        message: `${JSON.stringify(spec)} is not a port spec like 8080:80 or 127.0.0.1:8080:80/tcp`,
      },
    ]);
  }
  const [, ip, host, guest, proto] = m;
  return parseOptions(
    portForwardSchema,
    {
      guest: Number(guest),
      ...(host ? { host: Number(host) } : {}),
      ...(ip ? { hostIp: ip.replace(/^\[|\]$/g, '') } : {}),
      ...(proto ? { protocol: proto } : {}),
    },
    'ports',
  );
}
