/**
 * How a tool is declared (name, zod input schema, handler) and how its outcome becomes an MCP
 * result: structured content plus a short text summary, or a tool error (`isError: true`)
 * carrying the @vms error code and hint. Input is validated here, with our own errors, so a bad
 * argument comes back as an INVALID_OPTIONS tool error naming the field, like every other error.
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { InvalidOptionsError, parseOptions, toVmsError, VmsError } from '@vms/core';
import { z } from 'zod';

export interface ToolContext {
  /** Aborted when the client cancels the call or disconnects. */
  signal: AbortSignal;
  /** Reports a step of a long operation (a progress notification when the client asked for them). */
  progress: (message: string) => void;
}

/** Runs `work` with the instance's progress events forwarded as progress notifications. */
export async function withProgress<T>(
  instance: {
    on(event: 'progress', listener: (e: { action: string; step: string }) => void): () => void;
  },
  progress: (message: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  const off = instance.on('progress', (e) => progress(`${e.action}: ${e.step}`));
  try {
    return await work();
  } finally {
    off();
  }
}

export interface ToolOutcome {
  /** One line for humans and models. */
  summary: string;
  /** Text that follows the summary (command output, file content), when there is any. */
  text?: string;
  /** The structured result. */
  data: Record<string, unknown>;
}

export interface Tool<Session = unknown> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly annotations: ToolAnnotations;
  /** Validates `args` and runs the tool; throws VmsErrors (made into tool errors by `callTool`). */
  call(args: unknown, session: Session, ctx: ToolContext): Promise<ToolOutcome>;
}

export function defineTool<Session, S extends z.ZodObject>(def: {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations?: ToolAnnotations;
  run(args: z.output<S>, session: Session, ctx: ToolContext): Promise<ToolOutcome>;
}): Tool<Session> {
  return {
    name: def.name,
    title: def.title,
    description: def.description,
    inputSchema: def.input,
    annotations: { openWorldHint: false, ...def.annotations },
    call(args, session, ctx) {
      if (
        args !== undefined &&
        (typeof args !== 'object' || args === null || Array.isArray(args))
      ) {
        throw new InvalidOptionsError([{ path: '(arguments)', message: 'must be an object' }]);
      }
      return def.run(parseOptions(def.input, args ?? {}), session, ctx);
    },
  };
}

/** The JSON Schema the client sees for a tool's arguments. */
export function inputJsonSchema(tool: Tool<unknown>): { type: 'object'; [key: string]: unknown } {
  const schema = z.toJSONSchema(tool.inputSchema, { target: 'draft-7', io: 'input' });
  const { $schema: _drop, ...rest } = schema;
  return { ...rest, type: 'object' };
}

export function toolResult(outcome: ToolOutcome): CallToolResult {
  const text = outcome.text ? `${outcome.summary}\n${outcome.text}` : outcome.summary;
  return { content: [{ type: 'text', text }], structuredContent: outcome.data };
}

/** The structured form of an error, as tools return it. */
export function errorData(error: unknown): Record<string, unknown> {
  const e = toVmsError(error);
  const extra: Record<string, unknown> = {};
  if (VmsError.hasCode(e, 'POLICY_REFUSED') && 'rule' in e) extra.rule = e.rule;
  if (VmsError.hasCode(e, 'INVALID_OPTIONS')) {
    extra.field = e.field;
    extra.issues = e.issues;
  }
  if ('capability' in e) extra.capability = e.capability;
  return {
    code: e.code,
    message: e.message,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(e.instance ? { instance: e.instance } : {}),
    retryable: e.retryable,
    ...extra,
  };
}

/** A tool error: `isError`, the code and message (and hint) as text, and `{ error }` structured. */
export function toolError(error: unknown, data: Record<string, unknown> = {}): CallToolResult {
  const e = errorData(error);
  const text = `error ${String(e.code)}: ${String(e.message)}${e.hint ? `\nhint: ${String(e.hint)}` : ''}`;
  return {
    isError: true,
    content: [{ type: 'text', text }],
    structuredContent: { ...data, error: e },
  };
}

/** An error that carries partial results (an exec that timed out keeps the output it had). */
export class ToolFailure extends Error {
  readonly error: unknown;
  readonly data: Record<string, unknown>;
  constructor(error: unknown, data: Record<string, unknown>) {
    super(toVmsError(error).message);
    this.error = error;
    this.data = data;
  }
}
