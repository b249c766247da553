/** backends: what is installed, whether its tool is there, and what to do about it. */
import { type Capabilities, type JsonSchema, lazySchema, optionsJsonSchema } from '@vms/core';
import { expectPositionals } from './args.js';
import { backendSelection } from './backend-flags.js';
import type { CommandModule } from './context.js';
import { installHint } from './discovery.js';
import { EXIT } from './exit-codes.js';
import { validateFlags } from './flags.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from './instances.js';

const flagsSchema = lazySchema(() => backendSelection().pick({ 'backend-timeout': true }));

interface Row {
  backend: string;
  package: string;
  packageVersion?: string | undefined;
  source: string;
  installed: boolean;
  available: boolean;
  tool?: string | undefined;
  toolVersion?: string | undefined;
  reason?: string | undefined;
  hint?: string | undefined;
  /** What the backend can do (loaded backends only). */
  capabilities?: Capabilities | undefined;
  /** Its instance options as JSON Schema (what `--opt` and `--options-json` take). */
  options?: JsonSchema | undefined;
}

/** The documented key order of a row in `vms backends --json`. */
const KEY_ORDER: Array<keyof Row> = [
  'backend',
  'package',
  'packageVersion',
  'source',
  'installed',
  'available',
  'tool',
  'toolVersion',
  'reason',
  'hint',
  'capabilities',
  'options',
];

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('backends', args.positionals, 0, 0, '');
  const flags = validateFlags('backends', flagsSchema, args.values);
  const timeoutMs = flags['backend-timeout'] ?? DEFAULT_BACKEND_TIMEOUT_MS;
  const rows: Row[] = [];
  await Promise.all(
    ctx.registry.sources.map(async (source) => {
      const pkg = source.installed?.name ?? source.specifier;
      const base = {
        package: pkg,
        packageVersion: source.builtin ? ctx.version : source.installed?.version,
        source: source.origin,
      };
      if (!source.installed && !source.builtin) {
        for (const name of source.expectedNames.length ? source.expectedNames : [pkg]) {
          rows.push({
            ...base,
            backend: name,
            installed: false,
            available: false,
            reason: 'not installed',
            hint: installHint(source),
          });
        }
        return;
      }
      const loaded = await ctx.registry.load(source);
      if (loaded.error) {
        rows.push({
          ...base,
          backend: source.expectedNames[0] ?? pkg,
          installed: true,
          available: false,
          reason: loaded.error.message,
          hint: loaded.error.hint,
        });
        return;
      }
      await Promise.all(
        loaded.backends.map(async (backend) => {
          const d = await ctx.registry.detect(backend, timeoutMs, ctx.signal);
          rows.push({
            ...base,
            backend: backend.name,
            installed: true,
            available: d.available,
            tool: d.toolPath,
            toolVersion: d.version,
            reason: d.available ? undefined : (d.reason ?? 'unavailable'),
            hint: d.available ? undefined : d.hint,
            capabilities: backend.capabilities,
            options: optionsJsonSchema(backend.optionsSchema),
          });
        }),
      );
    }),
  );
  const order = (r: Row) =>
    ctx.registry.sources.findIndex(
      (s) => s.specifier === r.package || s.installed?.name === r.package,
    );
  rows.sort((a, b) => order(a) - order(b) || a.backend.localeCompare(b.backend));
  if (ctx.json) {
    ctx.out.result('backends', {
      ok: true,
      backends: rows.map((r) =>
        Object.fromEntries(KEY_ORDER.map((k) => [k, r[k]]).filter(([, v]) => v !== undefined)),
      ),
    });
    return EXIT.ok;
  }
  ctx.out.table(
    ['BACKEND', 'PACKAGE', 'VERSION', 'TOOL', 'TOOL VERSION', 'STATUS', 'HINT'],
    rows.map((r) => [
      r.backend,
      r.package,
      r.packageVersion,
      r.tool,
      r.toolVersion,
      r.available
        ? ctx.out.style('available', 'green')
        : ctx.out.style(r.reason ?? 'unavailable', r.installed ? 'red' : 'dim'),
      r.hint,
    ]),
  );
  return EXIT.ok;
};
