/**
 * What every session of a server shares: the backends, the policy and its checks, the warm
 * pools, the count of live instances (the `maxInstances` cap is server-wide) and the detection
 * cache. No MCP here: the protocol side is in server.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackendUnavailableError,
  type BackendV1,
  createInstance,
  type DetectResult,
  type Instance,
  type InstanceSettings,
  InvalidOptionsError,
  optionsJsonSchema,
  parseOptions,
  propertiesAt,
  toVmsError,
  vmsHome,
} from '@vms/core';
import { createPool, type Pool } from '@vms/pool';
import { globMatch, normalizeImage, type Policy, type Template } from './policy.js';
import { type CreateRequest, refuse, type Tracked } from './session.js';
import {
  newSessionId,
  removeSessionRecord,
  SESSION_LABEL,
  sessionPrefix,
  writeSessionRecord,
} from './sessions.js';

const DETECT_TIMEOUT_MS = 10_000;
const DETECT_CACHE_MS = 15_000;

export interface Plan {
  backend: BackendV1;
  source: { template: string } | { image: string };
  /** Instance options, without labels. */
  options: Record<string, unknown>;
  labels: Record<string, string>;
  /** The warm pool that serves this create, when one does. */
  pool: WarmPool | undefined;
}

export interface WarmPool {
  template: string;
  pool: Pool;
}

export interface ServerCoreOptions {
  backends: readonly BackendV1[];
  policy: Policy;
  home?: string;
  instanceSettings?: InstanceSettings;
  log?: (line: string) => void;
}

/** Keys of a backend's options (from its published JSON Schema), to know what it can take. */
function optionKeys(backend: BackendV1): Set<string> {
  const json = optionsJsonSchema(backend.optionsSchema);
  return new Set((json && propertiesAt(json, [])) ?? []);
}

export class ServerCore {
  readonly policy: Policy;
  readonly home: string;
  readonly backends: ReadonlyMap<string, BackendV1>;
  /** Every instance a session holds (leased ones included). */
  readonly instanceCount = new Set<Tracked>();
  readonly pools = new Map<string, WarmPool>();
  readonly #settings: InstanceSettings;
  readonly #log: (line: string) => void;
  readonly #detects = new Map<BackendV1, { at: number; result: Promise<DetectResult> }>();
  #reserved = 0;
  #poolSession: string | undefined;
  #tempDir: Promise<string> | undefined;

  constructor(options: ServerCoreOptions) {
    this.policy = options.policy;
    this.home = options.home ?? vmsHome();
    const backends = new Map<string, BackendV1>();
    for (const b of options.backends) if (!backends.has(b.name)) backends.set(b.name, b);
    this.backends = backends;
    this.#settings = options.instanceSettings ?? {};
    this.#log = options.log ?? (() => {});
    this.#validateTemplates();
  }

  log(line: string): void {
    this.#log(line);
  }

  /** Backends the policy lets agents use, in the order the server was given them. */
  allowedBackends(): BackendV1[] {
    const allowed = this.policy.backends;
    return [...this.backends.values()].filter((b) => !allowed || allowed.includes(b.name));
  }

  /** A backend's detect(), cached briefly, within a deadline. Never throws. */
  detect(backend: BackendV1): Promise<DetectResult> {
    const cached = this.#detects.get(backend);
    if (cached && Date.now() - cached.at < DETECT_CACHE_MS) return cached.result;
    const result = backend
      .detect({ signal: AbortSignal.timeout(DETECT_TIMEOUT_MS) })
      .catch(
        (error: unknown): DetectResult => ({ available: false, reason: toVmsError(error).message }),
      );
    this.#detects.set(backend, { at: Date.now(), result });
    return result;
  }

  makeInstance(backend: BackendV1, name: string, options: Record<string, unknown>): Instance {
    return createInstance(backend, name, options, this.#settings);
  }

  /** Instances alive now: held by sessions (outside pools), being created, and every pool's. */
  liveCount(): number {
    let n = this.#reserved;
    for (const t of this.instanceCount) if (!t.lease) n++;
    for (const { pool } of this.pools.values()) n += pool.stats().live;
    return n;
  }

  /** Takes a slot of `maxInstances` for a create; call the returned function when it is tracked or failed. */
  reserveSlot(): () => void {
    const max = this.policy.maxInstances;
    const live = this.liveCount();
    if (live >= max) {
      throw refuse(
        'maxInstances',
        `${live} instance(s) are alive and the most allowed is ${max}`,
        'delete_instance one you no longer need',
      );
    }
    this.#reserved++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved--;
    };
  }

  /** Checks a create against the policy and works out the backend and options. */
  async plan(req: CreateRequest): Promise<Plan> {
    const p = this.policy;
    if ((req.template === undefined) === (req.image === undefined)) {
      throw new InvalidOptionsError(
        [{ path: 'image', message: 'give exactly one of image or template' }],
        {
          hint: 'list_backends shows the templates and image patterns this server allows',
        },
      );
    }
    let template: Template | undefined;
    let backendName: string | undefined;
    let source: Plan['source'];
    const base: Record<string, unknown> = Object.create(null);
    if (req.template !== undefined) {
      if (!Object.hasOwn(p.templates, req.template)) {
        const names = Object.keys(p.templates);
        throw refuse(
          'templates',
          `no template named ${JSON.stringify(req.template)}`,
          names.length ? `templates: ${names.join(', ')}` : 'this server allows no templates',
        );
      }
      template = p.templates[req.template] as Template;
      if (req.backend !== undefined && req.backend !== template.backend) {
        throw new InvalidOptionsError([
          {
            path: 'backend',
            message: `template ${req.template} is for backend ${template.backend}`,
          },
        ]);
      }
      backendName = template.backend;
      Object.assign(base, template.options);
      source = { template: req.template };
    } else {
      const image = normalizeImage(req.image as string);
      if (!p.images.some((pattern) => globMatch(pattern, image))) {
        throw refuse(
          'images',
          `image ${image} is not allowed`,
          p.images.length
            ? `allowed images: ${p.images.join(', ')}`
            : 'this server allows no images: create from a template (list_backends shows them)',
        );
      }
      backendName =
        req.backend ?? this.allowedBackends().find((b) => optionKeys(b).has('image'))?.name;
      if (backendName === undefined) {
        throw refuse(
          'backends',
          'no allowed backend takes an image',
          'create from a template instead',
        );
      }
      base.image = image;
      source = { image };
    }
    const backend = this.#allowedBackend(backendName);
    const keys = optionKeys(backend);
    if (source && 'image' in source && !keys.has('image')) {
      throw new InvalidOptionsError([
        {
          path: 'image',
          message: `backend ${backend.name} takes no image: create from a template`,
        },
      ]);
    }
    const detected = await this.detect(backend);
    if (!detected.available) {
      throw new BackendUnavailableError(backend.name, detected.reason ?? 'not available', {
        ...(detected.hint ? { hint: detected.hint } : {}),
      });
    }
    const cpus = req.cpus ?? (typeof base.cpus === 'number' ? base.cpus : p.defaultCpus);
    if (cpus > p.maxCpus) throw refuse('maxCpus', `${cpus} CPUs asked, the most is ${p.maxCpus}`);
    const memoryMiB =
      req.memoryMiB ?? (typeof base.memoryMiB === 'number' ? base.memoryMiB : p.defaultMemoryMiB);
    if (memoryMiB > p.maxMemoryMiB)
      throw refuse('maxMemoryMiB', `${memoryMiB} MiB asked, the most is ${p.maxMemoryMiB} MiB`);
    const options: Record<string, unknown> = {
      ...base,
      cpus,
      memoryMiB,
      ...this.#networkOptions(backend, keys),
    };
    const labels = { ...((base.labels as Record<string, string> | undefined) ?? {}), ...p.labels };
    delete options.labels;
    if (req.env)
      options.env = { ...((base.env as Record<string, string> | undefined) ?? {}), ...req.env };
    const warm =
      req.template !== undefined &&
      req.cpus === undefined &&
      req.memoryMiB === undefined &&
      req.env === undefined
        ? this.pools.get(req.template)
        : undefined;
    return { backend, source, options, labels, pool: warm };
  }

  #allowedBackend(name: string): BackendV1 {
    const backend = this.backends.get(name);
    const allowed = this.policy.backends;
    if (allowed && !allowed.includes(name)) {
      throw refuse(
        'backends',
        `backend ${name} is not allowed`,
        `allowed backends: ${allowed.join(', ') || 'none'}`,
      );
    }
    if (!backend) {
      throw new BackendUnavailableError(name, 'it is not installed where the server runs', {
        hint: `backends here: ${[...this.backends.keys()].join(', ') || 'none'}`,
      });
    }
    return backend;
  }

  /** Options that take the network away, per the policy; refuses backends that cannot. */
  #networkOptions(backend: BackendV1, keys: Set<string>): Record<string, unknown> {
    if (this.policy.network === 'allow') return {};
    if (keys.has('network')) return { network: 'none' };
    if (keys.has('restrictNetwork')) return { restrictNetwork: true };
    throw refuse(
      'network',
      `backend ${backend.name} cannot run an instance without network`,
      "the server's policy must allow network (network: allow) for this backend",
    );
  }

  /** Templates must validate against their backend's options (when that backend is here). */
  #validateTemplates(): void {
    for (const [name, t] of Object.entries(this.policy.templates)) {
      const backend = this.backends.get(t.backend);
      if (!backend) continue;
      parseOptions(backend.optionsSchema, t.options, `templates.${name}.options`);
    }
  }

  /** Starts the warm pools of the policy (their instances belong to a `pool` session). */
  async startPools(): Promise<void> {
    if (this.policy.warm.length === 0 || this.#poolSession) return;
    const totalMax = this.policy.warm.reduce((n, w) => n + (w.max ?? Math.max(w.min, 1)), 0);
    if (totalMax > this.policy.maxInstances) {
      throw new InvalidOptionsError([
        {
          path: 'warm',
          message: `the pools may hold ${totalMax} instances, more than maxInstances (${this.policy.maxInstances})`,
        },
      ]);
    }
    const id = newSessionId();
    this.#poolSession = id;
    await writeSessionRecord(this.home, id, 'pool');
    let i = 0;
    for (const w of this.policy.warm) {
      const plan = await this.plan({
        alias: undefined,
        template: w.template,
        image: undefined,
        cpus: undefined,
        memoryMiB: undefined,
        env: undefined,
        start: true,
      });
      const pool = createPool({
        backend: plan.backend,
        namePrefix: `${sessionPrefix(id)}w${i++}`,
        options: { ...plan.options, labels: { ...plan.labels, [SESSION_LABEL]: id } },
        min: w.min,
        max: w.max ?? Math.max(w.min, 1),
        instanceSettings: this.#settings,
        idleTimeoutMs: 0,
        // The agent's first exec proves the guest answers; a state check keeps the hand-out quick.
        healthCheck: 'state',
      });
      pool.on('error', (e) => this.log(`warm pool ${w.template}: ${e.phase}: ${e.error.message}`));
      this.pools.set(w.template, { template: w.template, pool });
    }
  }

  /** A private temp directory for file transfers (0700), made on first use. */
  tempDir(): Promise<string> {
    this.#tempDir ??= mkdtemp(join(tmpdir(), 'vms-mcp-'));
    return this.#tempDir;
  }

  /** Closes the pools (deleting their instances) and removes the temp directory. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    const results = await Promise.allSettled(pools.map((w) => w.pool.close()));
    const failed = results.filter((r) => r.status === 'rejected');
    for (const r of failed)
      this.log(`warm pool: ${toVmsError((r as PromiseRejectedResult).reason).message}`);
    if (this.#poolSession && failed.length === 0)
      await removeSessionRecord(this.home, this.#poolSession);
    if (this.#tempDir) await rm(await this.#tempDir, { recursive: true, force: true });
  }
}
