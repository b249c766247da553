/** list_backends: what this server can create, and under which rules. */
import { z } from 'zod';
import type { Session } from '../session.js';
import { defineTool } from '../tool.js';

export const listBackends = defineTool({
  name: 'list_backends',
  title: 'List backends',
  description:
    'Lists the backends (container engines, VM hypervisors) of this server: whether each is allowed and available (and why not), its capabilities, the templates and image patterns an instance may be created from, and the limits of the policy.',
  input: z.object({}).strict(),
  annotations: { readOnlyHint: true },
  async run(_args, session: Session) {
    const core = session.core;
    const allowed = new Set(core.allowedBackends().map((b) => b.name));
    const backends = await Promise.all(
      [...core.backends.values()].map(async (b) => {
        const d = await core.detect(b);
        return {
          name: b.name,
          allowed: allowed.has(b.name),
          available: d.available,
          ...(d.version ? { version: d.version } : {}),
          ...(d.reason ? { reason: d.reason } : {}),
          ...(d.hint ? { hint: d.hint } : {}),
          capabilities: { ...b.capabilities },
        };
      }),
    );
    const p = core.policy;
    const templates = Object.entries(p.templates).map(([name, t]) => ({
      name,
      backend: t.backend,
      ...(t.description ? { description: t.description } : {}),
      warm: core.pools.has(name),
    }));
    const usable = backends.filter((b) => b.allowed && b.available).map((b) => b.name);
    return {
      summary: `${backends.length} backend(s), usable: ${usable.join(', ') || 'none'}; ${templates.length} template(s); images: ${p.images.join(', ') || 'none'}`,
      data: {
        backends,
        templates,
        images: p.images,
        limits: {
          maxInstances: p.maxInstances,
          maxCpus: p.maxCpus,
          maxMemoryMiB: p.maxMemoryMiB,
          defaultCpus: p.defaultCpus,
          defaultMemoryMiB: p.defaultMemoryMiB,
          defaultExecTimeoutMs: p.defaultExecTimeoutMs,
          maxExecTimeoutMs: p.maxExecTimeoutMs,
          maxOutputBytes: p.maxOutputBytes,
          maxFileBytes: p.maxFileBytes,
          instanceLifetimeMs: p.instanceLifetimeMs,
          network: p.network,
          hostPaths: p.hostPaths,
        },
      },
    };
  },
});
