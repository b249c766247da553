/**
 * write_file / read_file: files into and out of an instance, inline (text or base64) or from/to
 * an allowed host path. Through the backend's copy where it has one, else through exec (`cat`).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CapabilityUnsupportedError, InvalidOptionsError, OperationFailedError } from '@vms/core';
import { z } from 'zod';
import { Capture, strictUtf8 } from '../capture.js';
import { hostPathToRead, hostPathToWrite } from '../host-paths.js';
import { refuse, type Session, type Tracked } from '../session.js';
import { defineTool } from '../tool.js';
import { decodeInput } from './exec.js';
import { instanceArg } from './instances.js';

const guestPath = z
  .string()
  .regex(/^\//, 'must be an absolute path in the instance')
  .refine((p) => !p.endsWith('/'), 'must name a file, not a directory');

type Method = 'copy' | 'exec';

function method(t: Tracked): Method {
  if (t.backend.capabilities.copy) return 'copy';
  if (t.backend.capabilities.exec) return 'exec';
  throw new CapabilityUnsupportedError('copy', t.backend.name, {
    instance: t.instance.id,
    hint: 'this backend can neither copy files nor run commands',
  });
}

const tempName = () => `.vms-mcp-${randomBytes(6).toString('hex')}`;

/** Runs `argv` through exec for a file transfer; a non-zero exit is an error naming stderr. */
async function execTransfer(
  session: Session,
  t: Tracked,
  argv: string[],
  signal: AbortSignal,
  options: { stdin?: Buffer; cap: number },
): Promise<Capture> {
  const out = new Capture(options.cap);
  const err = new Capture(4096);
  const r = await t.instance.exec(argv, {
    signal: session.signalFor(t, signal),
    timeoutMs: session.core.policy.maxExecTimeoutMs,
    maxOutputBytes: options.cap,
    ...(options.stdin ? { stdin: options.stdin } : {}),
    onStdout: out.add,
    onStderr: err.add,
  });
  if (r.exitCode !== 0) {
    throw new OperationFailedError(
      `${argv.slice(0, 3).join(' ')} failed in ${t.instance.id} (exit code ${r.exitCode}): ${err.text().trim()}`,
      {
        instance: t.instance.id,
      },
    );
  }
  return out;
}

export const writeFileTool = defineTool({
  name: 'write_file',
  title: 'Write a file into an instance',
  description:
    'Writes a file in an instance: `content` inline (utf8 text, or base64 with encoding: base64), or copied from `fromHostPath` (only under the host directories the server allows). The directory must exist in the instance.',
  input: z
    .object({
      instance: instanceArg,
      path: guestPath.describe('absolute path of the file in the instance'),
      content: z.string().optional().describe('the file content'),
      encoding: z.enum(['utf8', 'base64']).default('utf8').describe('encoding of content'),
      fromHostPath: z.string().min(1).optional().describe('copy this host file instead of content'),
    })
    .strict(),
  annotations: { destructiveHint: true, idempotentHint: true },
  async run(args, session: Session, ctx) {
    const p = session.core.policy;
    if ((args.content === undefined) === (args.fromHostPath === undefined))
      throw new InvalidOptionsError([
        { path: 'content', message: 'give exactly one of content or fromHostPath' },
      ]);
    const t = session.get(args.instance);
    const how = method(t);
    const signal = session.signalFor(t, ctx.signal);
    let bytes: number;
    if (args.fromHostPath !== undefined) {
      const host = await hostPathToRead(p, args.fromHostPath, 'fromHostPath');
      const info = await stat(host);
      if (!info.isFile())
        throw new InvalidOptionsError([
          { path: 'fromHostPath', message: `${args.fromHostPath} is not a file` },
        ]);
      if (info.size > p.maxFileBytes)
        throw refuse(
          'maxFileBytes',
          `${args.fromHostPath} is ${info.size} bytes, the most is ${p.maxFileBytes}`,
        );
      bytes = info.size;
      if (how === 'copy') await t.instance.copyIn(host, args.path, { signal });
      else
        await execTransfer(session, t, ['sh', '-c', 'cat > "$1"', 'sh', args.path], ctx.signal, {
          stdin: await readFile(host),
          cap: 4096,
        });
    } else {
      const data = decodeInput(args.content as string, args.encoding, p.maxFileBytes, 'content');
      bytes = data.length;
      if (how === 'copy') {
        const temp = join(await session.core.tempDir(), tempName());
        await writeFile(temp, data, { mode: 0o644 });
        try {
          await t.instance.copyIn(temp, args.path, { signal });
        } finally {
          await rm(temp, { force: true });
        }
      } else {
        await execTransfer(session, t, ['sh', '-c', 'cat > "$1"', 'sh', args.path], ctx.signal, {
          stdin: data,
          cap: 4096,
        });
      }
    }
    return {
      summary: `wrote ${bytes} bytes to ${args.path} in ${t.alias} (${how})`,
      data: { path: args.path, bytes, method: how },
    };
  },
});

export const readFileTool = defineTool({
  name: 'read_file',
  title: 'Read a file from an instance',
  description:
    'Reads a file of an instance: returned inline (utf8 when it is valid UTF-8, else base64; or as you ask with encoding), at most maxBytes (truncation is said), or copied to `toHostPath` (only under the host directories the server allows).',
  input: z
    .object({
      instance: instanceArg,
      path: guestPath.describe('absolute path of the file in the instance'),
      encoding: z
        .enum(['utf8', 'base64'])
        .optional()
        .describe('how to return the content (default: utf8 if it is UTF-8, else base64)'),
      maxBytes: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('most bytes to return (default and most: the policy’s maxFileBytes)'),
      toHostPath: z
        .string()
        .min(1)
        .optional()
        .describe('copy the file to this host path instead of returning it'),
    })
    .strict(),
  annotations: { readOnlyHint: true },
  async run(args, session: Session, ctx) {
    const p = session.core.policy;
    const max = args.maxBytes ?? p.maxFileBytes;
    if (max > p.maxFileBytes)
      throw refuse('maxFileBytes', `maxBytes ${max} is above the most allowed, ${p.maxFileBytes}`);
    const t = session.get(args.instance);
    const how = method(t);
    const signal = session.signalFor(t, ctx.signal);

    if (args.toHostPath !== undefined) {
      const target = await hostPathToWrite(p, args.toHostPath, 'toHostPath');
      const temp = join(dirname(target), tempName());
      try {
        if (how === 'copy') await t.instance.copyOut(args.path, temp, { signal });
        else {
          const out = await execTransfer(session, t, ['cat', args.path], ctx.signal, {
            cap: p.maxFileBytes + 1,
          });
          await writeFile(temp, out.bytes(), { mode: 0o600 });
        }
        const info = await stat(temp);
        if (!info.isFile())
          throw new InvalidOptionsError([{ path: 'path', message: `${args.path} is not a file` }]);
        if (info.size > p.maxFileBytes)
          throw refuse('maxFileBytes', `${args.path} is more than ${p.maxFileBytes} bytes`);
        await rename(temp, target);
        return {
          summary: `copied ${args.path} of ${t.alias} to ${target} (${info.size} bytes, ${how})`,
          data: { path: args.path, hostPath: target, bytes: info.size, method: how },
        };
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    }

    let content: Buffer;
    let size: number;
    if (how === 'copy') {
      const temp = join(await session.core.tempDir(), tempName());
      try {
        await t.instance.copyOut(args.path, temp, { signal });
        const info = await stat(temp);
        if (!info.isFile())
          throw new InvalidOptionsError([{ path: 'path', message: `${args.path} is not a file` }]);
        size = info.size;
        const handle = await open(temp, 'r');
        try {
          const buffer = Buffer.alloc(Math.min(size, max));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
          content = buffer.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    } else {
      const out = await execTransfer(session, t, ['cat', args.path], ctx.signal, { cap: max });
      content = out.bytes();
      size = out.total;
    }
    const truncated = size > content.length;
    const text = args.encoding === 'base64' ? undefined : strictUtf8(content);
    if (args.encoding === 'utf8' && text === undefined && !truncated) {
      throw new InvalidOptionsError([
        {
          path: 'encoding',
          message: `${args.path} is not valid UTF-8: read it with encoding base64`,
        },
      ]);
    }
    const encoding = text === undefined ? 'base64' : 'utf8';
    const body = text ?? content.toString('base64');
    return {
      summary: `${args.path} of ${t.alias}: ${size} bytes${truncated ? `, first ${content.length} returned` : ''} (${encoding}, ${how})`,
      text: body,
      data: {
        path: args.path,
        content: body,
        encoding,
        bytes: size,
        returnedBytes: content.length,
        truncated,
        method: how,
      },
    };
  },
});
