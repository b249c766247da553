/**
 * Lifecycle steps the lima and colima drivers share (both tools are Lima underneath: the same
 * statuses, logrus diagnostics and stop semantics); each driver passes its own argv.
 */
import type { DriverStopOutcome, OpContext, StopRequest } from '@vms/core';
import type { CallOptions } from './logrus-tool.js';
import { parseLogLines } from './parse.js';

/** Deadline of clean-up work after a failure; not tied to the failed op's signal. */
export const RECOVERY_MS = 120_000;

/** An `onStderr` that reports the tool's info log lines as the op's progress. */
export function progressFromLog(ctx: Pick<OpContext, 'progress'>): (chunk: Buffer) => void {
  return (chunk) => {
    for (const line of parseLogLines(chunk.toString('utf8')))
      if (line.level === 'info') ctx.progress(line.msg);
  };
}

/**
 * Clean-up after a failed op (delete after create, force stop after start), on its own deadline;
 * its own failure is only logged, never masks the op's error.
 */
export async function recover(
  ctx: Pick<OpContext, 'debug'>,
  what: string,
  work: (options: CallOptions) => Promise<unknown>,
): Promise<void> {
  await work({ timeoutMs: RECOVERY_MS }).catch((cleanup: unknown) =>
    ctx.debug(`${what} failed`, { error: String(cleanup) }),
  );
}

/**
 * Stop by the Lima status: nothing for Stopped; forced when asked or not Running (Broken);
 * else graceful within `timeoutMs` (the tool's own wait is minutes; core forces after ours).
 */
export async function stopByStatus(
  req: StopRequest,
  status: string,
  stop: (force: boolean, options: CallOptions) => Promise<unknown>,
): Promise<DriverStopOutcome> {
  if (status === 'Stopped') return { how: 'already-stopped' };
  if (req.force || status !== 'Running') {
    await stop(true, { signal: req.signal, deadline: req.deadline });
    return { how: 'forced' };
  }
  await stop(false, {
    signal: req.signal,
    deadline: Math.min(req.deadline, Date.now() + Math.max(req.timeoutMs, 1_000)),
  });
  return { how: 'graceful' };
}
