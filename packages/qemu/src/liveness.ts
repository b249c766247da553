/**
 * Which QEMU of an instance is alive, judged from /proc and never from the record alone: the
 * one its launch record names, or one that no start recorded — a start interrupted between
 * QEMU daemonising and the launch being written (its process SIGKILLed, the machine loaded), whose
 * QEMU is found by its `-pidfile` argument (see process.ts). An instance with such a QEMU is
 * never `stopped`: it is broken (stop or delete end it), and a start must not launch a second
 * QEMU on the same disk.
 */
import { isOurProcess, processesWithArgument } from './process.js';
import type { Launch, QemuState } from './state.js';

export type Liveness =
  /** The recorded launch's QEMU runs. */
  | { kind: 'recorded'; launch: Launch }
  /** QEMU processes of this instance that no record names (and the recorded one, if any, is gone). */
  | { kind: 'unrecorded'; pids: number[]; exited?: Launch }
  /** No QEMU; `exited` is the recorded launch whose QEMU is gone (it died behind our back). */
  | { kind: 'none'; exited?: Launch };

/**
 * What runs for `state` (instance pid file `pidFile`). `running` lists the live processes with the
 * pid-file argument when the caller scanned /proc already (list: one scan for all instances).
 */
export function liveness(
  state: Pick<QemuState, 'launch'>,
  pidFile: string,
  running?: number[],
): Liveness {
  const launch = state.launch;
  if (launch) {
    const identity = {
      pid: launch.pid,
      marker: pidFile,
      ...(launch.startTime === undefined ? {} : { startTime: launch.startTime }),
    };
    if (isOurProcess(identity)) return { kind: 'recorded', launch };
  }
  const pids = running ?? processesWithArgument(pidFile);
  const exited = launch ? { exited: launch } : {};
  return pids.length > 0 ? { kind: 'unrecorded', pids, ...exited } : { kind: 'none', ...exited };
}

/** The reason an instance with an unrecorded QEMU is broken. */
export function unrecordedReason(pids: number[]): string {
  const which =
    pids.length === 1 ? `QEMU (pid ${pids[0]})` : `QEMU processes (pids ${pids.join(', ')})`;
  return `${which} runs but no start recorded it (the process starting it was interrupted): stop or delete the instance`;
}

/** The reason a recorded launch's QEMU is gone without a stop request. */
export function exitedReason(launch: Pick<Launch, 'pid'>): string {
  return `QEMU (pid ${launch.pid}) exited without a stop request`;
}
