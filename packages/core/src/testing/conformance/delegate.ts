/**
 * Wrappers that inject faults around a real backend (for the rollback group): every call goes to
 * the real driver except the ones overridden. Built member by member, so class-based drivers keep
 * their `this` and private fields.
 */
import type { BackendV1, DriverV1 } from '../../spec/v1.js';

/** `driver`, with `overrides` in place of some of its verbs. */
export function delegateDriver(driver: DriverV1, overrides: Partial<DriverV1>): DriverV1 {
  const d = driver;
  const out: DriverV1 = {
    doCreate: (ctx) => d.doCreate(ctx),
    doStart: (ctx) => d.doStart(ctx),
    doStop: (req) => d.doStop(req),
    doDelete: (ctx) => d.doDelete(ctx),
    doInspect: (ctx) => d.doInspect(ctx),
  };
  if (d.doSuspend) out.doSuspend = (ctx) => d.doSuspend!(ctx);
  if (d.doResume) out.doResume = (ctx) => d.doResume!(ctx);
  if (d.doExec) out.doExec = (argv, io, ctx) => d.doExec!(argv, io, ctx);
  if (d.doLogs) out.doLogs = (req) => d.doLogs!(req);
  if (d.doSnapshotCreate) out.doSnapshotCreate = (n, ctx) => d.doSnapshotCreate!(n, ctx);
  if (d.doSnapshotRestore) out.doSnapshotRestore = (n, ctx) => d.doSnapshotRestore!(n, ctx);
  if (d.doSnapshotList) out.doSnapshotList = (ctx) => d.doSnapshotList!(ctx);
  if (d.doSnapshotDelete) out.doSnapshotDelete = (n, ctx) => d.doSnapshotDelete!(n, ctx);
  if (d.doCopyIn) out.doCopyIn = (h, g, ctx) => d.doCopyIn!(h, g, ctx);
  if (d.doCopyOut) out.doCopyOut = (g, h, ctx) => d.doCopyOut!(g, h, ctx);
  if (d.capabilities) out.capabilities = (last) => d.capabilities!(last);
  if (d.watch) out.watch = (onChange) => d.watch!(onChange);
  return { ...out, ...overrides };
}

/** `backend`, whose drivers are wrapped by `wrap` (the real driver and the instance name given). */
export function delegateBackend(
  backend: BackendV1,
  wrap: (driver: DriverV1, name: string) => DriverV1,
): BackendV1 {
  const b = backend;
  const out: BackendV1 = {
    specificationVersion: b.specificationVersion,
    name: b.name,
    capabilities: b.capabilities,
    optionsSchema: b.optionsSchema,
    detect: (ctx) => b.detect(ctx),
    list: (ctx) => b.list(ctx),
    driver: (name, options) => wrap(b.driver(name, options), name),
  };
  if (b.defaultTimeouts) return { ...out, defaultTimeouts: b.defaultTimeouts, ...rest(b) };
  return { ...out, ...rest(b) };
}

function rest(b: BackendV1): Pick<BackendV1, 'validateName' | 'attach' | 'watchInstances'> {
  return {
    ...(b.validateName ? { validateName: (name: string) => b.validateName!(name) } : {}),
    ...(b.attach ? { attach: (name: string) => b.attach!(name) } : {}),
    ...(b.watchInstances
      ? {
          watchInstances: (l: Parameters<NonNullable<BackendV1['watchInstances']>>[0]) =>
            b.watchInstances!(l),
        }
      : {}),
  };
}
