/**
 * zod validation of parsed flag values, so every command sees typed, checked input before
 * anything runs; a bad value is a usage error naming the flag.
 */
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { parseDuration } from './units.js';
import { UsageError } from './usage-error.js';

/** Validates parsed flag values with a zod schema; a bad value is a usage error naming the flag. */
export function validateFlags<S extends z.ZodType>(
  command: string,
  schema: S | (() => S),
  values: unknown,
): z.output<S> {
  const result = (typeof schema === 'function' ? schema() : schema).safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const flag = issue?.path[0] !== undefined ? `--${String(issue.path[0])}` : 'flags';
  throw new UsageError(
    `invalid ${flag}: ${issue?.message ?? 'invalid value'}`,
    `see: vms help ${command}`,
  );
}

/** A duration flag (`30s`, `5m`, `500ms`; a bare number is seconds) → milliseconds. */
export const durationFlag = lazySchema(() =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(text)} is not a duration like 30s, 5m or 500ms`,
      });
      return z.NEVER;
    }
    return ms;
  }),
);

/** A non-negative integer flag. */
export const countFlag = lazySchema(() =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform((text) => Number(text)),
);
