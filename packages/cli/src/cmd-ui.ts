/**
 * ui: the live dashboard (`@vms/ui`, loaded only by this command) over every backend this
 * invocation discovers. Prints the URL with its session token and serves until interrupted.
 */
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type BackendV1, lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import { backendSelection } from './backend-flags.js';
import type { CliContext, CommandModule } from './context.js';
import { installHint } from './discovery.js';
import { EXIT } from './exit-codes.js';
import { durationFlag, validateFlags } from './flags.js';
import { findPackage, globalNodeModules, nodeModulesChain } from './package-resolve.js';
import { UsageError } from './usage-error.js';

const flagsSchema = lazySchema(() =>
  backendSelection().extend({
    host: z
      .string()
      .refine((h) => h === 'localhost' || isIP(h) !== 0, 'must be an IP address or localhost')
      .default('127.0.0.1'),
    port: z
      .string()
      .regex(/^\d{1,5}$/, 'must be a port number')
      .transform(Number)
      .refine((p) => p <= 65535, 'must be at most 65535')
      .default(0),
    poll: durationFlag().optional(),
    all: z.boolean().optional(),
  }),
);

type UiModule = typeof import('@vms/ui');

function isUiModule(mod: unknown): mod is UiModule {
  return (
    typeof mod === 'object' && mod !== null && 'startUi' in mod && typeof mod.startUi === 'function'
  );
}

/**
 * `@vms/ui`, imported only here: bundled (vms-all), next to the CLI (a global install of both),
 * or installed in the project or globally where Node's own resolution from the CLI would not look.
 */
async function loadUi(ctx: CliContext): Promise<UiModule> {
  try {
    return await import('@vms/ui');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
  }
  const installed = findPackage('@vms/ui', [
    ...nodeModulesChain(ctx.cwd),
    ...globalNodeModules(ctx.env, process.execPath),
  ]);
  if (installed) {
    const mod: unknown = await import(pathToFileURL(installed.entry).href);
    if (isUiModule(mod)) return mod;
    throw new UsageError(`${installed.dir} does not look like @vms/ui`, 'npm install -g @vms/ui');
  }
  throw new UsageError('vms ui needs @vms/ui, which is not installed', 'npm install -g @vms/ui');
}

/** Every loaded backend, and why each other one is not there (not installed, failed to load). */
async function gather(ctx: CliContext, wanted: string[]) {
  const backends: BackendV1[] = [];
  const unavailable: Array<{ name: string; reason: string; hint?: string }> = [];
  for (const source of ctx.registry.sources) {
    if (!source.installed && !source.builtin) {
      for (const name of source.expectedNames)
        unavailable.push({ name, reason: 'not installed', hint: installHint(source) });
      continue;
    }
    const loaded = await ctx.registry.load(source);
    if (loaded.error) {
      unavailable.push({
        name: source.expectedNames[0] ?? source.specifier,
        reason: loaded.error.message,
        ...(loaded.error.hint ? { hint: loaded.error.hint } : {}),
      });
    }
    backends.push(...loaded.backends);
  }
  if (wanted.length === 0) return { backends, unavailable };
  const chosen = await Promise.all(wanted.map((name) => ctx.registry.get(name)));
  return { backends: chosen, unavailable: [] };
}

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('ui', args.positionals, 0, 0, '');
  const flags = validateFlags('ui', flagsSchema, args.values);
  const [{ startUi }, { backends, unavailable }] = await Promise.all([
    loadUi(ctx),
    gather(ctx, flags.backend === undefined ? [] : [flags.backend].flat()),
  ]);
  const loopback = flags.host === 'localhost' || /^127\.|^::1$/.test(flags.host);
  if (!loopback) {
    ctx.out.warn(
      `serving on ${flags.host}: anyone who can reach it and holds the token can control your instances`,
    );
  }
  const ui = await startUi({
    backends,
    unavailable,
    host: flags.host,
    port: flags.port,
    settings: ctx.settings,
    ...(flags.poll !== undefined ? { pollMs: flags.poll } : {}),
    ...(flags['backend-timeout'] !== undefined ? { callTimeoutMs: flags['backend-timeout'] } : {}),
    ...(flags.all ? { all: true } : {}),
  });
  if (ctx.json) {
    ctx.out.record({ type: 'listening', url: ui.url, host: ui.host, port: ui.port });
  } else {
    ctx.out.line(`vms ui: ${ui.url}`);
    ctx.out.note('open the URL above in a browser (it holds the session token); Ctrl-C stops');
  }
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await ui.close();
  // Stopped by Ctrl-C / SIGTERM, the only way it ends: 130, as every command the signal ends.
  return EXIT.interrupted;
};
