/** logs: the last lines of an instance's output (container logs, a VM's serial console). */
import { CapabilityUnsupportedError } from '@vms/core';
import { z } from 'zod';
import { Capture } from '../capture.js';
import type { Session } from '../session.js';
import { defineTool } from '../tool.js';
import { instanceArg } from './instances.js';

export const logs = defineTool({
  name: 'logs',
  title: 'Read the logs of an instance',
  description:
    'Returns the last `tail` lines an instance printed (a container’s output, a VM’s serial console), at most the policy’s maxOutputBytes (truncation is said).',
  input: z
    .object({
      instance: instanceArg,
      tail: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(200)
        .describe('how many lines from the end'),
    })
    .strict(),
  annotations: { readOnlyHint: true },
  async run(args, session: Session, ctx) {
    const t = session.get(args.instance);
    if (!t.backend.capabilities.logs) {
      throw new CapabilityUnsupportedError('logs', t.backend.name, {
        instance: t.instance.id,
        hint: 'run a command that prints what you need instead (exec)',
      });
    }
    const out = new Capture(session.core.policy.maxOutputBytes);
    await t.instance.logs({
      signal: session.signalFor(t, ctx.signal),
      timeoutMs: 60_000,
      tail: args.tail,
      onData: out.add,
    });
    const text = out.text();
    return {
      summary: `logs of ${t.alias}: ${out.total} bytes${out.truncated ? `, first ${session.core.policy.maxOutputBytes} returned` : ''}`,
      ...(text ? { text } : {}),
      data: { output: text, bytes: out.total, truncated: out.truncated },
    };
  },
});
