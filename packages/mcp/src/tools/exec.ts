/** exec: runs a command in an instance, with stdin, env, cwd, a deadline and output caps. */
import { TimeoutError, VmsError } from '@vms/core';
import { z } from 'zod';
import { Capture } from '../capture.js';
import { refuse, type Session } from '../session.js';
import { defineTool, ToolFailure } from '../tool.js';
import { instanceArg } from './instances.js';

/** Bytes of `text` in `encoding`, refused above the policy's maxFileBytes. */
export function decodeInput(
  text: string,
  encoding: 'utf8' | 'base64',
  maxBytes: number,
  field: string,
): Buffer {
  const bytes = encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  if (bytes.length > maxBytes) {
    throw refuse('maxFileBytes', `${field} is ${bytes.length} bytes, the most is ${maxBytes}`);
  }
  return bytes;
}

export const exec = defineTool({
  name: 'exec',
  title: 'Run a command',
  description:
    'Runs a command in a running instance and returns its exit code, stdout and stderr. `command` is an argv array (no shell): use ["sh", "-c", "…"] for a shell line. Output beyond maxOutputBytes per stream is dropped and said so (stdoutTruncated / stderrTruncated). At the deadline the command is killed and the result is a TIMEOUT error carrying the output so far.',
  input: z
    .object({
      instance: instanceArg,
      command: z.array(z.string()).min(1).describe('argv, e.g. ["ls", "-la", "/"]'),
      stdin: z.string().optional().describe('data for the command’s stdin'),
      stdinEncoding: z.enum(['utf8', 'base64']).default('utf8').describe('encoding of stdin'),
      env: z
        .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid variable name'), z.string())
        .optional()
        .describe('extra environment variables'),
      cwd: z.string().min(1).optional().describe('working directory in the instance'),
      user: z.string().min(1).optional().describe('user to run as'),
      timeoutMs: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('deadline in ms (default and most: see list_backends limits)'),
      maxOutputBytes: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('bytes of each stream to return'),
    })
    .strict(),
  async run(args, session: Session, ctx) {
    const p = session.core.policy;
    const timeoutMs = args.timeoutMs ?? p.defaultExecTimeoutMs;
    if (timeoutMs > p.maxExecTimeoutMs)
      throw refuse(
        'maxExecTimeoutMs',
        `timeoutMs ${timeoutMs} is above the most allowed, ${p.maxExecTimeoutMs}`,
      );
    const cap = args.maxOutputBytes ?? p.maxOutputBytes;
    if (cap > p.maxOutputBytes)
      throw refuse(
        'maxOutputBytes',
        `maxOutputBytes ${cap} is above the most allowed, ${p.maxOutputBytes}`,
      );
    const stdin =
      args.stdin === undefined
        ? undefined
        : decodeInput(args.stdin, args.stdinEncoding, p.maxFileBytes, 'stdin');
    const t = session.get(args.instance);
    const out = new Capture(cap);
    const err = new Capture(cap);
    const started = Date.now();
    const partial = () => ({
      stdout: out.text(),
      stderr: err.text(),
      stdoutBytes: out.total,
      stderrBytes: err.total,
      stdoutTruncated: out.truncated,
      stderrTruncated: err.truncated,
      durationMs: Date.now() - started,
    });
    let exitCode: number;
    try {
      const r = await t.instance.exec(args.command, {
        signal: session.signalFor(t, ctx.signal),
        timeoutMs,
        maxOutputBytes: cap,
        ...(stdin ? { stdin } : {}),
        ...(args.env ? { env: args.env } : {}),
        ...(args.cwd ? { cwd: args.cwd } : {}),
        ...(args.user ? { user: args.user } : {}),
        onStdout: out.add,
        onStderr: err.add,
      });
      exitCode = r.exitCode;
    } catch (error) {
      if (VmsError.hasCode(error, 'TIMEOUT')) {
        const hint = `the command was killed; allow more time with timeoutMs (the most is ${p.maxExecTimeoutMs})`;
        throw new ToolFailure(
          new TimeoutError(`${args.command[0]} did not finish within ${timeoutMs} ms`, {
            cause: error,
            timeoutMs,
            hint,
          }),
          partial(),
        );
      }
      if (VmsError.hasCode(error, 'ABORTED')) throw new ToolFailure(error, partial());
      throw error;
    }
    const data = { exitCode, ...partial() };
    const truncated = data.stdoutTruncated || data.stderrTruncated;
    const sections = [
      data.stdout
        ? `--- stdout${data.stdoutTruncated ? ` (first ${cap} of ${data.stdoutBytes} bytes)` : ''}\n${data.stdout}`
        : '',
      data.stderr
        ? `--- stderr${data.stderrTruncated ? ` (first ${cap} of ${data.stderrBytes} bytes)` : ''}\n${data.stderr}`
        : '',
    ].filter(Boolean);
    return {
      summary: `exit code ${exitCode} in ${data.durationMs} ms${truncated ? ' (output truncated)' : ''}`,
      ...(sections.length ? { text: sections.join('\n') } : {}),
      data,
    };
  },
});
