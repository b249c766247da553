/** The per-instance driver: one supervised, daemonised QEMU process, driven through QMP. */
import { existsSync } from 'node:fs';
import { copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import {
  AlreadyExistsError,
  type CapabilityNarrowing,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  type EngineEndpoint,
  type EngineRequest,
  type ExecIo,
  InvalidOptionsError,
  type LogsRequest,
  NotFoundError,
  type Observation,
  type ObservedState,
  type OpContext,
  OperationFailedError,
  type PortMapping,
  type ProcessRunner,
  processStartTime,
  readiness,
  type SnapshotInfo,
  type StateStore,
  type StopRequest,
  VmsError,
  waitFor,
} from '@vms/core';
import { resolveAccel, sweepProbes } from './accel.js';
import { type HostForward, qemuArgv } from './argv.js';
import {
  fileSize,
  followFile,
  lineWith,
  parseHostKeys,
  readFrom,
  waitForConsole,
} from './console.js';
import { closeEngineForwards, DEFAULT_GUEST_SOCKETS, engineForward } from './engine-forward.js';
import { knownHostsText, normalizeKey, scanHostKeys } from './host-keys.js';
import { exitedReason, liveness, unrecordedReason } from './liveness.js';
import type { QemuOptions } from './options.js';
import { checkHostPath, sshPath } from './paths.js';
import { HOSTFWD_BUSY } from './ports.js';
import { type Identity, isOurProcess, processesWithArgument, signalIfOurs } from './process.js';
import { createBlank, createOverlay, imageInfo, offlineSnapshot, resize } from './qemu-img.js';
import { QmpClient } from './qmp.js';
import { shellQuote } from './quote.js';
import {
  fileBytes,
  moveFile,
  mustTemplate,
  newMac,
  newMachineId,
  readTemplate,
  refreshClone,
  resumeIncoming,
  saveVmState,
  TEMPLATE_HOST_ALIAS,
  type TemplateManifest,
  templatePaths,
  writeManifest,
  writeTemplateKnownHosts,
} from './saved-state.js';
import { writeSeedIso } from './seed.js';
import { parseSnapshotTable, SNAPSHOT_NAME } from './snapshots.js';
import { type SshTarget, scpCopy, sshExec, sshProbe } from './ssh.js';
import {
  type InstancePaths,
  instancePaths,
  type Launch,
  type Machine,
  type QemuState,
} from './state.js';

export interface DriverDeps {
  runner: ProcessRunner;
  store: StateStore<QemuState>;
  binary: string;
  qemuImg: string;
  accel: 'auto' | 'kvm' | 'tcg';
  /** Picks a free host port (injectable so tests can force a collision). */
  pickPort: (hostIp: string) => Promise<number>;
  /** Directory of the saved states (templates) clones start from. */
  templateRoot: string;
}

const GiB = 1024 ** 3;
const LAUNCH_ATTEMPTS = 5;
/** Rounds of stopping QEMUs no record names before giving up (each round waits for its exits). */
const UNRECORDED_ROUNDS = 5;
/** How long a restored clone's refresh connection stays open for the first exec/copy. */
const MUX_SECONDS = 10;
/** Longest wait for SSH at the first exec/copy after `readiness: 'running'`. */
const PIN_TIMEOUT_MS = 180_000;

function hostnameFor(name: string): string {
  const h = name
    .replace(/[^a-zA-Z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return h || 'vms';
}

export class QemuDriver implements DriverV1 {
  readonly #name: string;
  readonly #options: QemuOptions | undefined;
  readonly #deps: DriverDeps;
  readonly #paths: InstancePaths;
  /** Set while this driver itself ends QEMU, so watch() does not report our own stop as drift. */
  #ending = 0;

  /**
   * `options` is undefined when attached to an instance whose record is gone or no longer valid:
   * it can be inspected, stopped, snapshotted and deleted; starting or exec needs its options.
   */
  constructor(name: string, options: QemuOptions | undefined, deps: DriverDeps) {
    this.#name = name;
    this.#options = options;
    this.#deps = deps;
    this.#paths = instancePaths(deps.store.instanceDir(name));
  }

  /** The creation options, for the verbs that need them. */
  get #opts(): QemuOptions {
    if (this.#options) return this.#options;
    throw new InvalidOptionsError(
      [{ path: '(options)', message: `the options of qemu:${this.#name} are unknown` }],
      {
        hint: `its record is missing or no longer valid: delete it (vms delete qemu:${this.#name}) and create it anew`,
      },
    );
  }

  /** Snapshots live in a disk image: an instance without `disk` or `diskGiB` has none. */
  capabilities(): CapabilityNarrowing {
    const o = this.#options;
    return o && !o.disk && o.diskGiB === undefined
      ? { snapshot: 'snapshots need a disk (option disk or diskGiB)' }
      : {};
  }

  get paths(): InstancePaths {
    return this.#paths;
  }

  async #state(): Promise<QemuState | undefined> {
    return this.#deps.store.read(this.#name);
  }

  async #mustState(): Promise<QemuState> {
    const s = await this.#state();
    if (!s) throw new NotFoundError(`qemu instance ${this.#name} does not exist`);
    return s;
  }

  /** The options that shape the machine: a clone's come from its template. */
  #machineOf(state: QemuState | undefined): QemuOptions {
    const m = state?.clone?.machine;
    const o = this.#opts;
    if (!m) return o;
    return {
      ...o,
      cpus: m.cpus,
      memoryMiB: m.memoryMiB,
      machine: m.machine,
      kernel: m.kernel,
      initrd: m.initrd,
      cmdline: m.cmdline,
      iso: m.iso,
      extraArgs: m.extraArgs,
      restrictNetwork: m.restrictNetwork,
      accel: m.accel,
      ssh: { ...o.ssh, user: m.sshUser, guestPort: m.sshGuestPort },
    };
  }

  #identity(launch: Pick<Launch, 'pid' | 'startTime'>): Identity {
    return {
      pid: launch.pid,
      marker: this.#paths.pidFile,
      ...(launch.startTime === undefined ? {} : { startTime: launch.startTime }),
    };
  }

  #alive(launch: Launch | undefined): boolean {
    return launch !== undefined && isOurProcess(this.#identity(launch));
  }

  async #qmp(
    launch: Launch,
    ctx: Pick<OpContext, 'signal'>,
    timeoutMs = 10_000,
  ): Promise<QmpClient> {
    return QmpClient.connect(launch.qmpSocket, { signal: ctx.signal, timeoutMs });
  }

  async #withQmp<T>(
    launch: Launch,
    ctx: Pick<OpContext, 'signal'>,
    fn: (q: QmpClient) => Promise<T>,
  ): Promise<T> {
    const q = await this.#qmp(launch, ctx);
    try {
      return await fn(q);
    } finally {
      q.close();
    }
  }

  // ---------------------------------------------------------------- create / delete

  async doCreate(ctx: OpContext): Promise<void> {
    if (await this.#state())
      throw new AlreadyExistsError(`qemu instance ${this.#name} already exists`);
    const { runner, qemuImg } = this.#deps;
    const o = this.#opts;
    const p = this.#paths;
    checkHostPath(p.dir, 'VMS_HOME');
    if (o.ssh.privateKey) checkHostPath(o.ssh.privateKey, 'ssh.privateKey');
    await rm(p.dir, { recursive: true, force: true });
    await this.#deps.store.ensureDir(this.#name);
    try {
      if (o.from) {
        await this.#createClone(o.from.template, ctx);
        return;
      }
      let disk: string | undefined;
      let diskBytes: number | undefined;
      const wanted = o.diskGiB === undefined ? undefined : Math.round(o.diskGiB * GiB);
      if (o.disk) {
        ctx.progress('creating the qcow2 overlay');
        const info = await imageInfo(runner, qemuImg, o.disk, ctx);
        if (wanted !== undefined && wanted < info.virtualSize) {
          throw new InvalidOptionsError([
            {
              path: 'diskGiB',
              message: `must be at least the base image's size (${info.virtualSize / GiB} GiB)`,
            },
          ]);
        }
        await createOverlay(runner, qemuImg, o.disk, info.format, p.overlay, ctx);
        if (wanted !== undefined && wanted > info.virtualSize)
          await resize(runner, qemuImg, p.overlay, wanted, ctx);
        disk = p.overlay;
        diskBytes = wanted ?? info.virtualSize;
      } else if (wanted !== undefined) {
        await createBlank(runner, qemuImg, p.overlay, wanted, ctx);
        disk = p.overlay;
        diskBytes = wanted;
      }
      let privateKey = o.ssh.privateKey;
      if (!privateKey) {
        ctx.progress('generating the SSH key');
        privateKey = p.privateKey;
        await runner.run(
          [
            'ssh-keygen',
            '-q',
            '-t',
            'ed25519',
            '-N',
            '',
            '-C',
            `vms-${this.#name}`,
            '-f',
            privateKey,
          ],
          {
            signal: ctx.signal,
            deadline: ctx.deadline,
          },
        );
      }
      const publicKey = (
        await runner.run(['ssh-keygen', '-y', '-f', privateKey], {
          signal: ctx.signal,
          deadline: ctx.deadline,
        })
      ).stdout.trim();
      const hostname = o.userData?.hostname ?? hostnameFor(this.#name);
      let seedIso: string | undefined;
      if (o.seed) {
        ctx.progress('writing the NoCloud seed');
        await writeSeedIso(
          runner,
          p.seedIso,
          {
            instanceId: `vms-${this.#name}-${Date.now().toString(36)}`,
            hostname,
            sshAuthorizedKeys: [publicKey, ...(o.userData?.sshAuthorizedKeys ?? [])],
            ...(o.userData?.cloudConfig ? { cloudConfig: o.userData.cloudConfig } : {}),
          },
          ctx,
        );
        seedIso = p.seedIso;
      }
      await this.#deps.store.write(this.#name, {
        createdAt: new Date().toISOString(),
        privateKey,
        hostname,
        ...(disk ? { disk } : {}),
        ...(diskBytes === undefined ? {} : { diskBytes }),
        ...(seedIso ? { seedIso } : {}),
      });
    } catch (error) {
      await this.#deps.store.remove(this.#name).catch(() => {});
      throw error;
    }
  }

  /**
   * Deletes from any state, also with a corrupt or missing state file: the QEMU is found by what
   * is still there (the recorded launch, else any live process whose `-pidfile` argument is this
   * instance's pid file), stopped (QMP quit, then SIGKILL), and every file is removed.
   */
  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    const p = this.#paths;
    let state: QemuState | undefined;
    try {
      state = await this.#state();
    } catch (error) {
      ctx.debug('unreadable state; deleting from what is on disk', { error: String(error) });
    }
    const existed = state !== undefined || existsSync(p.dir) || existsSync(p.qmpSocket);
    await this.#closeMux();
    this.#ending++;
    try {
      if (state?.launch && this.#alive(state.launch))
        await this.#forceStop(this.#identity(state.launch), state.launch.qmpSocket, ctx);
      await this.#stopUnrecorded(processesWithArgument(p.pidFile), ctx);
    } finally {
      this.#ending--;
    }
    await closeEngineForwards(this.#paths.dir);
    await this.#deps.store.remove(this.#name);
    await rm(p.qmpSocket, { force: true });
    await rm(p.sshMux, { force: true });
    if (state?.launch) await rm(state.launch.qmpSocket, { force: true });
    // Probe VMs of a start that was killed (their supervisor normally ends them first).
    await sweepProbes().catch(() => {});
    return { existed };
  }

  // ---------------------------------------------------------------- start

  async doStart(ctx: OpContext): Promise<void> {
    const state = await this.#mustState();
    const live = liveness(state, this.#paths.pidFile);
    if (live.kind === 'recorded') return;
    if (live.kind === 'unrecorded') {
      // Never a second QEMU on the same disk (inspect reports this instance broken).
      throw new OperationFailedError(
        `qemu instance ${this.#name}: ${unrecordedReason(live.pids)}`,
        {
          hint: `stop it first (vms stop qemu:${this.#name}), then start it`,
        },
      );
    }
    const o = this.#machineOf(state);
    const p = this.#paths;
    const clone = state.clone;
    // A clone's first start resumes its template's saved state (while the template exists).
    const restoreFrom =
      clone?.restore && (await readTemplate(this.#deps.templateRoot, clone.template))
        ? templatePaths(this.#deps.templateRoot, clone.template).state
        : undefined;
    ctx.progress('choosing the accelerator');
    const accel = clone
      ? { accel: clone.machine.accel, reason: `the accelerator of template ${clone.template}` }
      : await resolveAccel(
          o.accel ?? this.#deps.accel,
          this.#deps.runner,
          this.#deps.binary,
          o.kernel ? { kernel: o.kernel } : {},
        );
    ctx.debug(`qemu accelerator: ${accel.accel} (${accel.reason})`);
    await rm(p.pidFile, { force: true });
    await rm(p.qmpSocket, { force: true });
    // Host keys are pinned afresh for every boot (see #sshReady).
    await rm(p.knownHosts, { force: true });
    await rm(`${p.knownHosts}.pending`, { force: true });
    const consoleOffset = await fileSize(p.console);

    let launched: { forwards: HostForward[]; pid: number } | undefined;
    for (let attempt = 1; !launched; attempt++) {
      const sshForward: HostForward = {
        protocol: 'tcp',
        hostIp: '127.0.0.1',
        hostPort: await this.#deps.pickPort('127.0.0.1'),
        guestPort: o.ssh.guestPort,
      };
      const forwards = [sshForward];
      let auto = true;
      for (const f of o.ports) {
        const fixed = f.host !== undefined && f.host !== 0;
        if (fixed) auto = false;
        forwards.push({
          protocol: f.protocol,
          hostIp: f.hostIp,
          hostPort: fixed ? f.host! : await this.#deps.pickPort(f.hostIp),
          guestPort: f.guest,
        });
      }
      const argv = qemuArgv({
        binary: this.#deps.binary,
        accel: accel.accel,
        ...(o.machine ? { machine: o.machine } : {}),
        cpus: o.cpus,
        memoryMiB: o.memoryMiB,
        pidFile: p.pidFile,
        qmpSocket: p.qmpSocket,
        consoleLog: p.console,
        ...(o.kernel ? { kernel: o.kernel } : {}),
        ...(o.initrd ? { initrd: o.initrd } : {}),
        ...(o.cmdline !== undefined ? { cmdline: o.cmdline } : {}),
        ...(state.disk ? { disk: state.disk } : {}),
        ...(o.iso ? { iso: o.iso } : {}),
        ...(state.seedIso ? { seedIso: state.seedIso } : {}),
        forwards,
        restrictNetwork: o.restrictNetwork,
        ...(clone ? { mac: clone.mac } : {}),
        ...(restoreFrom ? { incoming: `exec:cat ${shellQuote(restoreFrom)}` } : {}),
        extraArgs: o.extraArgs,
      });
      ctx.progress(restoreFrom ? 'launching QEMU from the saved state' : 'launching QEMU');
      const r = await this.#deps.runner
        .run(argv, {
          signal: ctx.signal,
          deadline: ctx.deadline,
          timeoutMs: 60_000,
          okExitCodes: 'any',
        })
        .catch(async (error: unknown) => {
          // Aborted mid-launch: a daemon that got as far as its pidfile must not be left behind.
          const pid = Number.parseInt(await readFile(p.pidFile, 'utf8').catch(() => ''), 10);
          if (pid > 0) signalIfOurs({ pid, marker: p.pidFile }, 'SIGKILL');
          throw error;
        });
      if (r.exitCode === 0) {
        const pid = Number.parseInt(await readFile(p.pidFile, 'utf8'), 10);
        launched = { forwards, pid };
      } else if (HOSTFWD_BUSY.test(r.stderr) && auto && attempt < LAUNCH_ATTEMPTS) {
        ctx.debug('a forwarded port was taken meanwhile; retrying with fresh ports', {
          stderr: r.stderr,
        });
      } else {
        throw new OperationFailedError(
          `QEMU failed to start: ${r.stderr.trim() || `exit code ${r.exitCode}`}`,
          {
            hint: HOSTFWD_BUSY.test(r.stderr) ? 'a requested host port is in use' : undefined,
          },
        );
      }
    }
    const startTime = processStartTime(launched.pid) ?? undefined;
    const launch: Launch = {
      pid: launched.pid,
      ...(startTime === undefined ? {} : { startTime }),
      qmpSocket: p.qmpSocket,
      accel: accel.accel,
      accelReason: accel.reason,
      sshPort: launched.forwards[0]!.hostPort,
      ports: launched.forwards.map((f) => ({ ...f })),
      consoleOffset,
      startedAt: new Date().toISOString(),
    };
    const { lastExit: _drop, ...rest } = state;
    try {
      // A QEMU whose launch cannot be recorded (disk full) must not outlive this start.
      await this.#deps.store.write(this.#name, { ...rest, launch });
      if (restoreFrom) await this.#restoreReady(launch, ctx);
      else await this.#waitReady(launch, ctx);
    } catch (error) {
      await this.#forceStop(this.#identity(launch), launch.qmpSocket, {
        ...ctx,
        signal: AbortSignal.timeout(30_000),
      }).catch(() => {});
      throw error;
    }
  }

  #target(state: QemuState, launch: Launch, knownHosts = this.#paths.knownHosts): SshTarget {
    return {
      host: '127.0.0.1',
      port: launch.sshPort,
      user: this.#machineOf(state).ssh.user,
      privateKey: state.privateKey,
      knownHosts,
      alias: `vms-${this.#name}`,
    };
  }

  /** For exec and copy: over a restored clone's refresh connection while it is still open. */
  #sessionTarget(state: QemuState, launch: Launch): SshTarget {
    return { ...this.#target(state, launch), mux: { path: this.#paths.sshMux } };
  }

  /** Ends a restored clone's shared connection, if it is still open (stop, delete). */
  async #closeMux(): Promise<void> {
    if (!existsSync(this.#paths.sshMux)) return;
    await this.#deps.runner
      .run(
        [
          'ssh',
          '-F',
          '/dev/null',
          '-o',
          `ControlPath="${sshPath(this.#paths.sshMux)}"`,
          '-O',
          'exit',
          'vms',
        ],
        { timeoutMs: 5_000, okExitCodes: 'any' },
      )
      .catch(() => undefined);
    await rm(this.#paths.sshMux, { force: true });
  }

  /** Why the launch's QEMU is gone, or undefined while it runs (ends boot-time waits at once). */
  #deadReason(launch: Launch): () => string | undefined {
    return () => (this.#alive(launch) ? undefined : 'QEMU exited during boot');
  }

  /**
   * Pins the guest's SSH host keys into `file` (known_hosts, HostKeyAlias vms-<name>), from the
   * source `hostKey` names: the serial console, an ssh-keyscan over the loopback forward once
   * sshd answers, or the keys given.
   */
  async #pinHostKey(launch: Launch, file: string, ctx: OpContext): Promise<void> {
    const source = this.#opts.hostKey;
    const dead = this.#deadReason(launch);
    let keys: string[];
    if (source === 'console') {
      ctx.progress('waiting for the guest SSH host key on the serial console');
      keys = await waitForConsole(this.#paths.console, launch.consoleOffset, parseHostKeys, {
        signal: ctx.signal,
        deadline: ctx.deadline,
        description: 'the SSH host keys on the serial console',
        dead,
      });
    } else if (source === 'scan') {
      ctx.progress(`waiting for SSH on 127.0.0.1:${launch.sshPort} to learn its host key`);
      // Cheap banner polls first (short attempts), then ssh-keyscan on a server that answers.
      await this.#untilDead(launch, ctx, (signal) =>
        readiness
          .sshBanner(launch.sshPort)
          .wait(
            { host: '127.0.0.1', exec: () => Promise.reject(new Error('no exec while booting')) },
            { signal, deadline: ctx.deadline },
          ),
      );
      keys = await waitFor(
        async ({ signal }) => {
          const reason = dead();
          if (reason) throw Object.assign(new OperationFailedError(reason), { fatal: true });
          return scanHostKeys(this.#deps.runner, launch.sshPort, signal);
        },
        {
          description: `the SSH host key from ssh-keyscan on 127.0.0.1:${launch.sshPort}`,
          deadline: ctx.deadline,
          signal: ctx.signal,
          backoff: { initialMs: 200, maxMs: 1_000 },
        },
      );
    } else {
      keys = source.publicKeys.map((k) => normalizeKey(k)!);
    }
    await writeFile(file, knownHostsText(`vms-${this.#name}`, keys), { mode: 0o600 });
  }

  /** Runs `fn` with a signal that also aborts when the launch's QEMU dies (error: why). */
  async #untilDead<T>(
    launch: Launch,
    ctx: Pick<OpContext, 'signal'>,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const died = new AbortController();
    const dead = this.#deadReason(launch);
    const poll = setInterval(() => {
      const reason = dead();
      if (reason) died.abort(new OperationFailedError(reason));
    }, 250);
    try {
      return await fn(AbortSignal.any([ctx.signal, died.signal]));
    } catch (error) {
      if (died.signal.aborted && !ctx.signal.aborted) throw died.signal.reason;
      throw error;
    } finally {
      clearInterval(poll);
    }
  }

  /**
   * Before exec/copy: a VM started with `readiness: 'running'` gets its SSH readiness now,
   * within the operation's deadline (at most PIN_TIMEOUT_MS), once per boot.
   */
  async #ensureSshReady(state: QemuState, launch: Launch, ctx: OpContext): Promise<void> {
    if (existsSync(this.#paths.knownHosts)) return;
    await this.#sshReady(state, launch, {
      ...ctx,
      deadline: Math.min(ctx.deadline, Date.now() + PIN_TIMEOUT_MS),
    });
  }

  /**
   * Readiness, event-driven: QMP says running (enough for `readiness: 'running'`), then
   * #sshReady.
   */
  async #waitReady(launch: Launch, ctx: OpContext): Promise<void> {
    const state = await this.#mustState();
    const status = await this.#withQmp(launch, ctx, (q) =>
      q.execute<{ status: string }>('query-status'),
    );
    if (status.status !== 'running')
      throw new OperationFailedError(`QEMU is ${status.status} after launch`);
    if (this.#opts.readiness === 'ssh') await this.#sshReady(state, launch, ctx);
  }

  /**
   * The host key is pinned (see #pinHostKey); then the guest's ready marker on the console when
   * one is configured, else an SSH probe (`true`, short attempts, capped backoff). The keys go
   * to a pending file, renamed to known_hosts only once SSH is ready: known_hosts present means
   * this boot is ready for exec.
   */
  async #sshReady(state: QemuState, launch: Launch, ctx: OpContext): Promise<void> {
    const dead = this.#deadReason(launch);
    const pending = `${this.#paths.knownHosts}.pending`;
    await this.#pinHostKey(launch, pending, ctx);
    const marker = this.#opts.readyMarker;
    if (marker) {
      // The guest prints the marker once its SSH server listens: that line is the readiness
      // event, seen through inotify as it is written (no SSH round trip on the critical path).
      ctx.progress(`waiting for ${JSON.stringify(marker)} on the serial console`);
      await waitForConsole(this.#paths.console, launch.consoleOffset, lineWith(marker), {
        signal: ctx.signal,
        deadline: ctx.deadline,
        description: `${JSON.stringify(marker)} on the serial console`,
        dead,
      });
    } else {
      ctx.progress('waiting for SSH');
      const target = this.#target(state, launch, pending);
      await waitFor(
        async ({ signal }) => {
          const reason = dead();
          if (reason) throw Object.assign(new OperationFailedError(reason), { fatal: true });
          return sshProbe(this.#deps.runner, target, signal, 3_000);
        },
        {
          description: `SSH on 127.0.0.1:${launch.sshPort}`,
          deadline: ctx.deadline,
          signal: ctx.signal,
          backoff: { initialMs: 100, maxMs: 500 },
        },
      );
    }
    await rename(pending, this.#paths.knownHosts);
  }

  // ---------------------------------------------------------------- saved states

  /**
   * A clone's create: its own qcow2 overlay over the template's disk, its own seed (hostname),
   * MAC and machine-id; the template's login key and pinned host key (for the refresh).
   */
  async #createClone(templateName: string, ctx: OpContext): Promise<void> {
    const { runner, qemuImg } = this.#deps;
    const t: TemplateManifest = await mustTemplate(this.#deps.templateRoot, templateName);
    const tp = templatePaths(this.#deps.templateRoot, templateName);
    const p = this.#paths;
    let disk: string | undefined;
    if (t.disk) {
      ctx.progress(`creating the qcow2 overlay over template ${templateName}`);
      await createOverlay(runner, qemuImg, tp.disk, 'qcow2', p.overlay, ctx);
      disk = p.overlay;
    }
    await copyFile(tp.privateKey, p.privateKey);
    await copyFile(tp.knownHosts, p.templateHosts);
    const hostname = this.#opts.userData?.hostname ?? hostnameFor(this.#name);
    let seedIso: string | undefined;
    if (t.seed) {
      // Its own seed: a later cold boot of the clone (every start after the first) reads it.
      const publicKey = (
        await runner.run(['ssh-keygen', '-y', '-f', p.privateKey], {
          signal: ctx.signal,
          deadline: ctx.deadline,
        })
      ).stdout.trim();
      await writeSeedIso(
        runner,
        p.seedIso,
        {
          instanceId: `vms-${this.#name}-${Date.now().toString(36)}`,
          hostname,
          sshAuthorizedKeys: [publicKey],
        },
        ctx,
      );
      seedIso = p.seedIso;
    }
    await this.#deps.store.write(this.#name, {
      createdAt: new Date().toISOString(),
      privateKey: p.privateKey,
      hostname,
      ...(disk ? { disk } : {}),
      ...(seedIso ? { seedIso } : {}),
      clone: {
        template: templateName,
        machine: t.machine,
        mac: newMac(),
        machineId: newMachineId(),
        restore: true,
      },
    });
  }

  /**
   * Readiness of a restored clone: QEMU has loaded the saved state, the guest runs again, and
   * it has its own identity (refreshed over SSH, authenticated with the template's host key);
   * its new host keys are pinned. From then on it boots, not restores, on later starts.
   */
  async #restoreReady(launch: Launch, ctx: OpContext): Promise<void> {
    ctx.progress('loading the saved state');
    await this.#withQmp(launch, ctx, (q) => resumeIncoming(q, ctx));
    const state = await this.#mustState();
    const clone = state.clone!;
    const templateKeys = (await readFile(this.#paths.templateHosts, 'utf8'))
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(1).join(' '))
      .filter(Boolean);
    // This connection stays open a few seconds: the first exec runs over it, without another
    // handshake (slow in an emulated guest).
    const templateTarget: SshTarget = {
      ...this.#target(state, launch, this.#paths.templateHosts),
      alias: TEMPLATE_HOST_ALIAS,
      mux: { path: this.#paths.sshMux, shareFor: MUX_SECONDS },
    };
    ctx.progress('giving the clone its own identity');
    const dead = this.#deadReason(launch);
    const keys = await waitFor(
      async ({ signal }) => {
        const reason = dead();
        if (reason) throw Object.assign(new OperationFailedError(reason), { fatal: true });
        return refreshClone(
          this.#deps.runner,
          templateTarget,
          { hostname: state.hostname, mac: clone.mac, machineId: clone.machineId },
          templateKeys,
          { signal, deadline: ctx.deadline },
        );
      },
      {
        description: `the identity refresh of the clone over SSH on 127.0.0.1:${launch.sshPort}`,
        deadline: ctx.deadline,
        signal: ctx.signal,
        backoff: { initialMs: 50, maxMs: 500 },
      },
    );
    await writeFile(this.#paths.knownHosts, knownHostsText(`vms-${this.#name}`, keys), {
      mode: 0o600,
    });
    await this.#deps.store.write(this.#name, {
      ...state,
      clone: { ...clone, restore: false },
    });
  }

  /**
   * Saves this running instance as template `name` (its directory already claimed by the
   * caller): the guest's memory and devices, then QEMU is ended and the instance's disk, seed,
   * key and pinned host key move into the template. The instance is left stopped, without its
   * disk: the caller deletes it.
   */
  async saveAsTemplate(name: string, ctx: OpContext): Promise<TemplateManifest> {
    const state = await this.#mustState();
    const launch = state.launch;
    if (!launch || !this.#alive(launch)) {
      throw new OperationFailedError(`qemu instance ${this.#name} is not running`, {
        hint: 'a template is saved from a running instance',
      });
    }
    const tp = templatePaths(this.#deps.templateRoot, name);
    const o = this.#opts;
    const pinned = await readFile(this.#paths.knownHosts, 'utf8').catch(() => '');
    const keys = pinned
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(1).join(' '))
      .filter(Boolean);
    if (keys.length === 0) {
      throw new OperationFailedError(`qemu instance ${this.#name} has no pinned SSH host key`, {
        hint: "save a template from an instance started with readiness 'ssh'",
      });
    }
    ctx.progress('saving the memory and device state');
    await this.#withQmp(launch, ctx, (q) => saveVmState(q, tp.state, ctx));
    this.#ending++;
    try {
      await this.#forceStop(this.#identity(launch), launch.qmpSocket, ctx);
    } finally {
      this.#ending--;
    }
    await this.#recordExit(state, `saved as template ${name}`);
    if (state.disk) await moveFile(state.disk, tp.disk);
    if (state.seedIso) await copyFile(state.seedIso, tp.seedIso);
    await copyFile(state.privateKey, tp.privateKey);
    await writeTemplateKnownHosts(tp, keys);
    const machine: Machine = {
      cpus: o.cpus,
      memoryMiB: o.memoryMiB,
      ...(o.machine ? { machine: o.machine } : {}),
      ...(o.kernel ? { kernel: o.kernel } : {}),
      ...(o.initrd ? { initrd: o.initrd } : {}),
      ...(o.cmdline !== undefined ? { cmdline: o.cmdline } : {}),
      ...(o.iso ? { iso: o.iso } : {}),
      extraArgs: o.extraArgs,
      restrictNetwork: o.restrictNetwork,
      accel: launch.accel,
      sshUser: o.ssh.user,
      sshGuestPort: o.ssh.guestPort,
    };
    const manifest: TemplateManifest = {
      schemaVersion: 1,
      name,
      createdAt: new Date().toISOString(),
      machine,
      disk: state.disk !== undefined,
      seed: state.seedIso !== undefined,
      stateBytes: await fileBytes(tp.state),
    };
    await writeManifest(tp, manifest);
    return manifest;
  }

  // ---------------------------------------------------------------- stop

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    this.#ending++;
    try {
      return await this.#stop(req);
    } finally {
      this.#ending--;
    }
  }

  async #stop(req: StopRequest): Promise<DriverStopOutcome> {
    const state = await this.#mustState();
    const live = liveness(state, this.#paths.pidFile);
    if (live.kind === 'unrecorded') {
      // A QEMU of an interrupted start: nobody waits for its guest; QMP quit, else SIGKILL.
      const how = await this.#stopUnrecorded(live.pids, req);
      const reason = `QEMU of an interrupted start ${how}`;
      await this.#recordExit(state, reason);
      return { how: 'forced', guestExit: { message: reason } };
    }
    if (live.kind === 'none') {
      if (live.exited) await this.#recordExit(state, exitedReason(live.exited), true);
      return { how: 'already-stopped' };
    }
    const launch = live.launch;
    if (!req.force) {
      try {
        const graceful = await this.#withQmp(launch, req, async (q) => {
          const status = await q.execute<{ status: string }>('query-status');
          if (status.status !== 'running') await q.execute('cont');
          const shutdown = q.waitEvent('SHUTDOWN', {
            signal: req.signal,
            timeoutMs: req.timeoutMs,
          });
          shutdown.catch(() => {});
          await q.execute('system_powerdown');
          const event = await shutdown;
          await this.#waitGone(this.#identity(launch), req, 10_000);
          return event;
        });
        const reason = `guest powered off (${String(graceful.data?.reason ?? 'shutdown')})`;
        await this.#recordExit(state, reason);
        return { how: 'graceful', guestExit: { message: reason } };
      } catch (error) {
        if (VmsError.hasCode(error, 'ABORTED') && req.signal.aborted) throw error;
        req.debug('graceful stop did not finish; forcing', { error: String(error) });
      }
    }
    const how = await this.#forceStop(this.#identity(launch), launch.qmpSocket, req);
    const reason = `QEMU ${how}`;
    await this.#recordExit(state, reason);
    return { how: 'forced', guestExit: { message: reason } };
  }

  /** QMP quit, then SIGKILL — only ever to a process proven to be our QEMU. */
  async #forceStop(
    id: Identity,
    qmpSocket: string,
    ctx: Pick<OpContext, 'signal' | 'debug'>,
  ): Promise<string> {
    if (!isOurProcess(id)) return 'was already gone';
    try {
      const q = await QmpClient.connect(qmpSocket, { signal: ctx.signal, timeoutMs: 5_000 });
      try {
        await q.execute('quit', undefined, { timeoutMs: 5_000 });
      } finally {
        q.close();
      }
    } catch (error) {
      ctx.debug('QMP quit failed', { error: String(error) });
    }
    try {
      await this.#waitGone(id, ctx, 5_000);
      return 'quit through QMP';
    } catch {
      signalIfOurs(id, 'SIGKILL');
      await this.#waitGone(id, ctx, 10_000);
      return 'killed with SIGKILL';
    }
  }

  /**
   * Ends QEMU processes with this instance's pid-file argument that no record names (a start
   * interrupted before recording its launch, or a record that cannot be read); returns how the
   * last one ended. Looks again until none is left: a QEMU caught daemonising forks its daemon
   * (same argv) while its parent is being stopped.
   */
  async #stopUnrecorded(pids: number[], ctx: Pick<OpContext, 'signal' | 'debug'>): Promise<string> {
    let how = 'was already gone';
    for (let round = 1; pids.length > 0; round++) {
      if (round > UNRECORDED_ROUNDS) {
        throw new OperationFailedError(
          `QEMU processes of ${this.#name} keep appearing while being stopped (pids ${pids.join(', ')})`,
        );
      }
      for (const pid of pids) {
        ctx.debug(`stopping QEMU pid ${pid} that no record names`);
        const startTime = processStartTime(pid);
        how = await this.#forceStop(
          this.#identity({ pid, ...(startTime === null ? {} : { startTime }) }),
          this.#paths.qmpSocket,
          ctx,
        );
      }
      pids = processesWithArgument(this.#paths.pidFile);
    }
    return how;
  }

  async #waitGone(id: Identity, ctx: Pick<OpContext, 'signal'>, timeoutMs: number): Promise<void> {
    await waitFor(async () => !isOurProcess(id), {
      description: `QEMU (pid ${id.pid}) to exit`,
      timeoutMs,
      signal: ctx.signal,
      backoff: { initialMs: 20, maxMs: 200 },
    });
  }

  async #recordExit(state: QemuState, reason: string, unexpected = false): Promise<void> {
    await closeEngineForwards(this.#paths.dir);
    await this.#closeMux();
    const { launch, ...rest } = state;
    if (launch) await rm(launch.qmpSocket, { force: true });
    await rm(this.#paths.pidFile, { force: true });
    await this.#deps.store.write(this.#name, {
      ...rest,
      lastExit: { reason, at: new Date().toISOString(), ...(unexpected ? { unexpected } : {}) },
    });
  }

  // ---------------------------------------------------------------- suspend / resume

  async #running(): Promise<{ state: QemuState; launch: Launch }> {
    const state = await this.#mustState();
    if (!state.launch || !this.#alive(state.launch)) {
      throw new OperationFailedError(`qemu instance ${this.#name} is not running`);
    }
    return { state, launch: state.launch };
  }

  async doSuspend(ctx: OpContext): Promise<void> {
    const { launch } = await this.#running();
    await this.#withQmp(launch, ctx, (q) => q.execute('stop'));
  }

  async doResume(ctx: OpContext): Promise<void> {
    const { launch } = await this.#running();
    await this.#withQmp(launch, ctx, (q) => q.execute('cont'));
  }

  // ---------------------------------------------------------------- inspect

  async doInspect(ctx: OpContext): Promise<Observation> {
    let state: QemuState | undefined;
    try {
      state = await this.#state();
    } catch (error) {
      if (!VmsError.hasCode(error, 'PROTOCOL_ERROR')) throw error;
      return { state: 'broken', reason: `unreadable state file: ${error.message}` };
    }
    if (state) return this.#observe(state, ctx, true);
    // Files without a state file (a create killed midway, state.json removed): not absent.
    if (existsSync(this.#paths.dir) || processesWithArgument(this.#paths.pidFile).length > 0) {
      return {
        state: 'broken',
        reason: 'no state file (its create was interrupted, or the file was removed)',
      };
    }
    return { state: 'absent' };
  }

  async #observe(state: QemuState, ctx: OpContext, retry: boolean): Promise<Observation> {
    const live = liveness(state, this.#paths.pidFile);
    if (live.kind === 'unrecorded') {
      // Never "stopped" while a QEMU of this instance runs (a start would launch a second one).
      return {
        state: 'broken',
        reason: unrecordedReason(live.pids),
        properties: this.#properties(state, undefined),
      };
    }
    if (live.kind === 'none' && live.exited) {
      // QEMU died behind our back (killed, crashed, guest powered off by itself).
      const reason = exitedReason(live.exited);
      await this.#recordExit(state, reason, true).catch(() => {});
      return { state: 'stopped', reason, properties: this.#properties(state, undefined) };
    }
    if (live.kind === 'none') {
      // Only an exit nobody asked for carries a reason (a requested stop is just "stopped").
      return {
        state: 'stopped',
        ...(state.lastExit?.unexpected ? { reason: state.lastExit.reason } : {}),
        properties: this.#properties(state, undefined),
      };
    }
    const launch = live.launch;
    let observed: ObservedState;
    let reason: string | undefined;
    try {
      const status = await this.#withQmp(launch, ctx, (q) =>
        q.execute<{ status: string }>('query-status'),
      );
      ({ observed, reason } = mapRunState(status.status));
    } catch (error) {
      // QEMU may be exiting right now: look again before calling it broken.
      if (retry && !this.#alive(launch)) return this.#observe(state, ctx, false);
      observed = 'broken';
      reason = `QEMU (pid ${launch.pid}) runs but QMP does not answer: ${(error as Error).message}`;
    }
    return {
      state: observed,
      ...(reason ? { reason } : {}),
      properties: this.#properties(state, launch),
    };
  }

  #properties(state: QemuState, launch: Launch | undefined) {
    const o = this.#machineOf(state);
    const ports: PortMapping[] = launch ? launch.ports.slice(1) : [];
    return {
      cpus: o.cpus,
      memoryMiB: o.memoryMiB,
      ...(state.diskBytes ? { diskGiB: state.diskBytes / GiB } : {}),
      image: o.disk ?? o.iso ?? o.kernel ?? '',
      createdAt: state.createdAt,
      labels: o.labels,
      ...(launch
        ? {
            ip: '127.0.0.1',
            ports,
            ssh: { host: '127.0.0.1', port: launch.sshPort, user: o.ssh.user },
          }
        : {}),
      extra: {
        instanceDir: this.#paths.dir,
        pidFile: this.#paths.pidFile,
        consoleLog: this.#paths.console,
        privateKey: state.privateKey,
        knownHosts: this.#paths.knownHosts,
        hostname: state.hostname,
        ...(state.clone ? { template: state.clone.template, mac: state.clone.mac } : {}),
        ...(launch
          ? {
              pid: launch.pid,
              qmpSocket: launch.qmpSocket,
              accel: launch.accel,
              accelReason: launch.accelReason,
            }
          : {}),
      },
    };
  }

  // ---------------------------------------------------------------- exec / copy / logs

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    const { state, launch } = await this.#running();
    await this.#ensureSshReady(state, launch, ctx);
    return sshExec(this.#deps.runner, this.#sessionTarget(state, launch), argv, io, ctx);
  }

  /**
   * The engine inside the guest, forwarded to a unix socket in the instance directory over SSH
   * (see engine-forward.ts); kept until the VM stops or is deleted, reused meanwhile.
   */
  async doEngineEndpoint(request: EngineRequest, ctx: OpContext): Promise<EngineEndpoint> {
    const { state, launch } = await this.#running();
    await this.#ensureSshReady(state, launch, ctx);
    const socket = await engineForward(
      this.#deps.runner,
      {
        dir: this.#paths.dir,
        kind: request.kind,
        remote: request.guestAddress ?? DEFAULT_GUEST_SOCKETS[request.kind],
        boot: launch.startedAt,
        target: this.#target(state, launch),
        id: `qemu:${this.#name}`,
      },
      ctx,
    );
    return { host: `unix://${socket}`, via: 'ssh-forward' };
  }

  async doCopyIn(hostPath: string, guestPath: string, ctx: OpContext): Promise<void> {
    const { state, launch } = await this.#running();
    await this.#ensureSshReady(state, launch, ctx);
    await scpCopy(
      this.#deps.runner,
      this.#sessionTarget(state, launch),
      hostPath,
      guestPath,
      true,
      ctx,
    );
  }

  async doCopyOut(guestPath: string, hostPath: string, ctx: OpContext): Promise<void> {
    const { state, launch } = await this.#running();
    await this.#ensureSshReady(state, launch, ctx);
    await scpCopy(
      this.#deps.runner,
      this.#sessionTarget(state, launch),
      hostPath,
      guestPath,
      false,
      ctx,
    );
  }

  async doLogs(req: LogsRequest): Promise<void> {
    await this.#mustState();
    let offset = 0;
    if (req.tail !== undefined) {
      const all = await readFrom(this.#paths.console, 0);
      const lines = all.toString('utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      const kept = lines.slice(Math.max(0, lines.length - req.tail)).join('\n');
      offset =
        all.length -
        Buffer.byteLength(kept) -
        (all.length > 0 && all[all.length - 1] === 10 ? 1 : 0);
      offset = Math.max(0, offset);
    }
    if (!req.follow) {
      const chunk = await readFrom(this.#paths.console, offset);
      if (chunk.length > 0) req.onData(chunk, 'stdout');
      return;
    }
    await followFile(this.#paths.console, offset, (c) => req.onData(c, 'stdout'), req.signal);
  }

  // ---------------------------------------------------------------- snapshots

  #checkSnapshotName(name: string): void {
    if (!SNAPSHOT_NAME.test(name)) {
      throw new InvalidOptionsError([
        { path: 'snapshot', message: `${JSON.stringify(name)} is not a valid snapshot name` },
      ]);
    }
  }

  async #snapshotDisk(state: QemuState): Promise<string> {
    if (!state.disk) {
      throw new OperationFailedError(
        `qemu instance ${this.#name} has no qcow2 disk to hold snapshots`,
        {
          hint: 'create it with a disk (or diskGiB)',
        },
      );
    }
    return state.disk;
  }

  async doSnapshotList(ctx: OpContext): Promise<SnapshotInfo[]> {
    const state = await this.#mustState();
    if (state.launch && this.#alive(state.launch)) {
      const text = await this.#withQmp(state.launch, ctx, (q) => q.hmp('info snapshots'));
      return parseSnapshotTable(text);
    }
    if (!state.disk) return [];
    return parseSnapshotTable(
      await offlineSnapshot(
        this.#deps.runner,
        this.#deps.qemuImg,
        state.disk,
        '-l',
        undefined,
        ctx,
      ),
    );
  }

  async doSnapshotCreate(name: string, ctx: OpContext): Promise<void> {
    await this.#snapshotOp(name, ctx, {
      mustExist: false,
      live: (q) => q.hmp(`savevm ${name}`, { timeoutMs: 300_000, signal: ctx.signal }),
      offlineFlag: '-c',
    });
  }

  async doSnapshotRestore(name: string, ctx: OpContext): Promise<void> {
    await this.#snapshotOp(name, ctx, {
      mustExist: true,
      live: async (q) => {
        const before = await q.execute<{ status: string }>('query-status');
        try {
          await q.hmp(`loadvm ${name}`, { timeoutMs: 300_000, signal: ctx.signal });
        } finally {
          // A failed loadvm leaves the VM paused (restore-vm): put it back as it was.
          const after = await q.execute<{ status: string }>('query-status');
          if (before.status === 'running' && after.status !== 'running') await q.execute('cont');
        }
      },
      offlineFlag: '-a',
    });
  }

  async doSnapshotDelete(name: string, ctx: OpContext): Promise<void> {
    await this.#snapshotOp(name, ctx, {
      mustExist: true,
      live: (q) => q.hmp(`delvm ${name}`, { timeoutMs: 120_000, signal: ctx.signal }),
      offlineFlag: '-d',
    });
  }

  /** One path for save/load/delete: through HMP while QEMU runs, with `qemu-img snapshot` when not. */
  async #snapshotOp(
    name: string,
    ctx: OpContext,
    op: {
      mustExist: boolean;
      live: (q: QmpClient) => Promise<unknown>;
      offlineFlag: '-c' | '-a' | '-d';
    },
  ): Promise<void> {
    this.#checkSnapshotName(name);
    const state = await this.#mustState();
    const disk = await this.#snapshotDisk(state);
    const exists = (await this.doSnapshotList(ctx)).some((s) => s.name === name);
    if (exists && !op.mustExist) {
      throw new AlreadyExistsError(`snapshot ${name} of ${this.#name} already exists`);
    }
    if (!exists && op.mustExist) {
      throw new NotFoundError(`snapshot ${name} of ${this.#name} does not exist`);
    }
    if (state.launch && this.#alive(state.launch)) {
      await this.#withQmp(state.launch, ctx, op.live);
    } else {
      await offlineSnapshot(this.#deps.runner, this.#deps.qemuImg, disk, op.offlineFlag, name, ctx);
    }
  }

  // ---------------------------------------------------------------- watch

  watch(onChange: (observation: Observation) => void): () => void {
    let stopped = false;
    // One QMP client at a time per socket: watching polls the process identity instead.
    const poll = setInterval(() => void check(), 1_000);
    poll.unref();
    const check = async () => {
      if (stopped || this.#ending > 0) return;
      const state = await this.#state().catch(() => undefined);
      if (!state?.launch || this.#alive(state.launch) || stopped || this.#ending > 0) return;
      const live = liveness(state, this.#paths.pidFile);
      if (live.kind === 'recorded') return;
      stopped = true;
      clearInterval(poll);
      onChange(
        live.kind === 'unrecorded'
          ? { state: 'broken', reason: unrecordedReason(live.pids) }
          : { state: 'stopped', reason: exitedReason(state.launch) },
      );
    };
    return () => {
      stopped = true;
      clearInterval(poll);
    };
  }
}

export function mapRunState(status: string): { observed: ObservedState; reason?: string } {
  switch (status) {
    case 'running':
    case 'inmigrate':
    case 'finish-migrate':
    case 'save-vm':
    case 'prelaunch':
      return { observed: 'running' };
    case 'paused':
    case 'suspended':
    case 'postmigrate':
      return { observed: 'suspended' };
    case 'restore-vm':
      return { observed: 'suspended', reason: 'paused after a snapshot restore' };
    default:
      return { observed: 'broken', reason: `QEMU run state is ${status}` };
  }
}
