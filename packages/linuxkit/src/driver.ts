/**
 * The per-instance driver: resolves (or builds) the LinuxKit image at create, records it, and
 * delegates every verb to a @vms/qemu driver whose state lives nested in this instance's dir.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AlreadyExistsError,
  type CapabilityNarrowing,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  type ExecIo,
  InvalidOptionsError,
  type LogsRequest,
  NotFoundError,
  type Observation,
  type OpContext,
  OperationFailedError,
  type ProcessRunner,
  type SnapshotInfo,
  type StateStore,
  type StopRequest,
} from '@vms/core';
import type { QemuBackend, QemuDriver } from '@vms/qemu';
import { buildImage } from './build.js';
import { requireUefiFirmware } from './firmware.js';
import { imageFiles, resolveImage } from './image.js';
import type { LinuxkitOptions } from './options.js';
import { readSavedImage } from './saved-states.js';
import { describeProblems, identify, imageProblems, type LinuxkitState } from './state.js';
import type { TemplateCatalog } from './templates.js';
import { mountTag, qemuOptionsFor } from './translate.js';

export interface LinuxkitDriverDeps {
  store: StateStore<LinuxkitState>;
  /** A qemu backend whose state root is `stateRoot` (nested in the instance's directory). */
  qemuAt(stateRoot: string): QemuBackend;
  templates: TemplateCatalog;
  /** The `linuxkit` executable for template builds. */
  linuxkit: string;
  uefiFirmware?: string;
  runner: ProcessRunner;
  /** Where the saved states live (`from: { savedState }`). */
  savedStateRoot: () => string;
}

export class LinuxkitDriver implements DriverV1 {
  readonly #name: string;
  readonly #options: LinuxkitOptions | undefined;
  readonly #deps: LinuxkitDriverDeps;
  #qemuBackend: QemuBackend | undefined;
  /** One qemu driver per image configuration (its stop bookkeeping must be the one watch sees). */
  #qemuDriver: { key: string; driver: QemuDriver } | undefined;

  /**
   * `options` is undefined when attached to an instance whose record is gone or no longer valid:
   * it can be inspected, stopped, snapshotted and deleted; starting it needs its options.
   */
  constructor(name: string, options: LinuxkitOptions | undefined, deps: LinuxkitDriverDeps) {
    this.#name = name;
    this.#options = options;
    this.#deps = deps;
  }

  /** The creation options, for the verbs that need them. */
  get #opts(): LinuxkitOptions {
    if (this.#options) return this.#options;
    throw new InvalidOptionsError(
      [{ path: '(options)', message: `the options of linuxkit:${this.#name} are unknown` }],
      {
        hint: `its record is missing or no longer valid: delete it (vms delete linuxkit:${this.#name}) and create it anew`,
      },
    );
  }

  /**
   * Snapshots live in a disk: a kernel+initrd or ISO image without `diskGiB` has none (known
   * from the image format once the instance exists).
   */
  capabilities(last: Observation | undefined): CapabilityNarrowing {
    const lk = last?.properties?.extra?.linuxkit;
    const format =
      typeof lk === 'object' && lk !== null && 'format' in lk ? String(lk.format) : undefined;
    const noDisk = format === 'kernel+initrd' || format === 'iso';
    return noDisk && this.#options?.diskGiB === undefined
      ? { snapshot: `a ${format} image has no disk to snapshot (set diskGiB for one)` }
      : {};
  }

  /** This instance's directory (state.json, qemu/, image/). */
  get dir(): string {
    return this.#deps.store.instanceDir(this.#name);
  }

  #qemu(
    state: Pick<LinuxkitState, 'image' | 'uefiFirmware' | 'savedState'> | undefined,
  ): QemuDriver {
    const key = JSON.stringify([state?.image ?? null, state?.uefiFirmware ?? null]);
    if (this.#qemuDriver && (this.#qemuDriver.key === key || !state))
      return this.#qemuDriver.driver;
    this.#qemuBackend ??= this.#deps.qemuAt(join(this.dir, 'qemu'));
    // Options unknown (attached): the qemu instance's own attach driver (no boot options).
    const driver = this.#options
      ? this.#qemuBackend.driver(this.#name, {
          ...qemuOptionsFor(state?.image, this.#options, state?.uefiFirmware),
          // A clone: its qemu instance restores the saved state on its first start.
          ...(state?.savedState ? { from: { template: state.savedState } } : {}),
        })
      : this.#qemuBackend.attach(this.#name);
    this.#qemuDriver = { key, driver };
    return driver;
  }

  async #state(): Promise<LinuxkitState | undefined> {
    return this.#deps.store.read(this.#name);
  }

  async #mustState(): Promise<LinuxkitState> {
    const s = await this.#state();
    if (!s) throw new NotFoundError(`linuxkit instance ${this.#name} does not exist`);
    return s;
  }

  // ---------------------------------------------------------------- create / delete

  async doCreate(ctx: OpContext): Promise<void> {
    if (await this.#state())
      throw new AlreadyExistsError(`linuxkit instance ${this.#name} already exists`);
    const o = this.#opts;
    // A directory without state.json is what a killed create leaves: start afresh.
    await this.#deps.store.remove(this.#name);
    await this.#deps.store.ensureDir(this.#name);
    try {
      if (o.from) {
        const saved = await readSavedImage(this.#deps.savedStateRoot(), o.from.savedState);
        const state: LinuxkitState = {
          createdAt: new Date().toISOString(),
          source: `saved-state:${o.from.savedState}`,
          image: saved.image,
          files: saved.files,
          ...(saved.uefiFirmware ? { uefiFirmware: saved.uefiFirmware } : {}),
          savedState: o.from.savedState,
        };
        await this.#qemu(state).doCreate(ctx);
        await this.#deps.store.write(this.#name, state);
        return;
      }
      let path = o.image;
      let template: LinuxkitState['template'];
      if (o.template) {
        ctx.progress(`rendering template ${o.template.name}`);
        const yaml = await this.#deps.templates.render(o.template.name, o.template.vars);
        const dir = join(this.dir, 'image');
        const built = await buildImage({
          yaml,
          format: o.template.format,
          dir,
          name: o.template.name,
          binary: this.#deps.linuxkit,
          signal: ctx.signal,
          deadline: ctx.deadline,
          runner: this.#deps.runner,
          progress: ctx.progress,
        });
        path = built.image;
        template = {
          name: o.template.name,
          format: o.template.format,
          dir,
          yamlFile: built.yamlFile,
        };
      }
      ctx.progress('detecting the image format');
      const image = await resolveImage(path!, o.firmware);
      ctx.debug(`linuxkit image ${path}: ${image.format} (${image.detected})`);
      const uefiFirmware =
        image.firmware === 'efi'
          ? requireUefiFirmware(`${image.format} image ${path}`, this.#deps.uefiFirmware)
          : undefined;
      const files = await identify(imageFiles(image));
      await this.#qemu({ image, uefiFirmware }).doCreate(ctx);
      await this.#deps.store.write(this.#name, {
        createdAt: new Date().toISOString(),
        source: template ? `template:${template.name}` : path!,
        image,
        files,
        ...(uefiFirmware ? { uefiFirmware } : {}),
        ...(template ? { template } : {}),
      });
    } catch (error) {
      await this.#deps.store.remove(this.#name).catch(() => {});
      throw error;
    }
  }

  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    let state: LinuxkitState | undefined;
    try {
      state = await this.#state();
    } catch (error) {
      // A corrupt state file must not make the instance undeletable.
      ctx.debug('unreadable state; deleting anyway', { error: String(error) });
    }
    const existed = state !== undefined || existsSync(this.dir);
    if (existsSync(join(this.dir, 'qemu'))) await this.#qemu(state).doDelete(ctx);
    await this.#deps.store.remove(this.#name);
    return { existed };
  }

  // ---------------------------------------------------------------- start / stop

  async doStart(ctx: OpContext): Promise<void> {
    const state = await this.#mustState();
    const problems = await imageProblems(state.files);
    // A kernel, initrd or ISO that changed still boots; a disk's overlay needs the same base.
    const fatal = problems.filter((p) => p.problem === 'deleted' || state.image.boot === 'disk');
    if (fatal.length > 0) {
      throw new OperationFailedError(
        `linuxkit instance ${this.#name} cannot start: its image changed since create (${describeProblems(fatal)})`,
        { hint: 'put the image back, or delete the instance and create it again' },
      );
    }
    const qemu = this.#qemu(state);
    await qemu.doStart(ctx);
    if (this.#opts.mounts.length > 0) {
      try {
        await this.#mountAll(qemu, ctx);
      } catch (error) {
        await qemu
          .doStop({ ...ctx, signal: AbortSignal.timeout(60_000), force: true, timeoutMs: 0 })
          .catch(() => {});
        throw error;
      }
    }
  }

  /** Mounts each 9p share in the guest over SSH (the image needs 9p support and sshd). */
  async #mountAll(qemu: QemuDriver, ctx: OpContext): Promise<void> {
    for (const [i, m] of this.#opts.mounts.entries()) {
      ctx.progress(`mounting ${m.target} in the guest`);
      let stderr = '';
      const script = `mkdir -p "$2" && mount -t 9p -o trans=virtio,version=9p2000.L${m.readOnly ? ',ro' : ''} "$1" "$2"`;
      const r = await qemu.doExec(
        ['sh', '-c', script, 'sh', mountTag(i), m.target],
        {
          onStdout: () => {},
          onStderr: (c) => {
            stderr += c.toString('utf8');
          },
        },
        ctx,
      );
      if (r.exitCode !== 0) {
        throw new OperationFailedError(
          `mounts.${i}: mounting ${m.source} at ${m.target} in the guest failed (exit ${r.exitCode}): ${stderr.trim()}`,
          { hint: 'the image needs 9p (virtio) support in its kernel and an SSH server' },
        );
      }
    }
  }

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    return this.#qemu(await this.#mustState()).doStop(req);
  }

  async doSuspend(ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doSuspend(ctx);
  }

  async doResume(ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doResume(ctx);
  }

  // ---------------------------------------------------------------- inspect

  async doInspect(ctx: OpContext): Promise<Observation> {
    const state = await this.#state();
    if (!state) return { state: 'absent' };
    const observed = await this.#qemu(state).doInspect(ctx);
    const problems = await imageProblems(state.files);
    const reasons: string[] = [];
    if (observed.state === 'absent') reasons.push('its QEMU state is missing');
    else if (observed.reason) reasons.push(observed.reason);
    if (problems.length > 0) {
      const running = observed.state === 'running' || observed.state === 'suspended';
      reasons.push(
        `${describeProblems(problems)} since create${running ? ' while the VM runs (it keeps running on what it loaded)' : ''}`,
      );
    }
    const props = observed.properties ?? {};
    return {
      state: observed.state === 'absent' ? 'broken' : observed.state,
      ...(reasons.length ? { reason: reasons.join('; ') } : {}),
      properties: {
        ...props,
        image: state.source,
        createdAt: state.createdAt,
        extra: {
          ...props.extra,
          linuxkit: {
            format: state.image.format,
            boot: state.image.boot,
            firmware: state.image.firmware,
            detected: state.image.detected,
            files: state.files.map((f) => ({ role: f.role, path: f.path })),
            ...(state.template ? { template: state.template } : {}),
            ...(state.uefiFirmware ? { uefiFirmware: state.uefiFirmware } : {}),
            imageProblems: problems,
          },
        },
      },
    };
  }

  // ---------------------------------------------------------------- exec / copy / logs

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    return this.#qemu(await this.#mustState()).doExec(argv, io, ctx);
  }

  async doCopyIn(hostPath: string, guestPath: string, ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doCopyIn(hostPath, guestPath, ctx);
  }

  async doCopyOut(guestPath: string, hostPath: string, ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doCopyOut(guestPath, hostPath, ctx);
  }

  async doLogs(req: LogsRequest): Promise<void> {
    await this.#qemu(await this.#mustState()).doLogs(req);
  }

  // ---------------------------------------------------------------- snapshots (disk images)

  async doSnapshotList(ctx: OpContext): Promise<SnapshotInfo[]> {
    return this.#qemu(await this.#mustState()).doSnapshotList(ctx);
  }

  async doSnapshotCreate(name: string, ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doSnapshotCreate(name, ctx);
  }

  async doSnapshotRestore(name: string, ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doSnapshotRestore(name, ctx);
  }

  async doSnapshotDelete(name: string, ctx: OpContext): Promise<void> {
    await this.#qemu(await this.#mustState()).doSnapshotDelete(name, ctx);
  }

  // ---------------------------------------------------------------- watch

  watch(onChange: (observation: Observation) => void): () => void {
    // The qemu driver that started the VM (same process) or one that only watches the process.
    return this.#qemu(undefined).watch(onChange);
  }
}
