/**
 * A backend's options as JSON Schema (zod 4's `toJSONSchema`, input side: what a user may write),
 * for tools that build options from flags or forms (the CLI, an MCP server, a dashboard), and the
 * unknown-key check core runs on every user input with it.
 */

import type * as z4 from 'zod/v4/core';
import { toJSONSchema } from 'zod/v4/core';
import { closestMatch } from './closest.js';
import type { IssuePath } from './errors.js';

/** A JSON Schema (draft 2020-12) document, as plain JSON. */
export type JsonSchema = { [key: string]: unknown };

const cache = new WeakMap<object, JsonSchema | null>();

/**
 * The JSON Schema of what a user may write for `schema` (zod's `io: 'input'`: defaults are
 * optional, transforms show their input). Computed once per schema. Undefined when zod cannot
 * express the schema as JSON Schema.
 */
export function optionsJsonSchema(schema: z4.$ZodType): JsonSchema | undefined {
  const cached = cache.get(schema);
  if (cached !== undefined) return cached ?? undefined;
  let json: JsonSchema | null;
  try {
    json = { ...toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) };
  } catch {
    json = null;
  }
  cache.set(schema, json);
  return json ?? undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/** Follows a local `$ref` (`#/$defs/Name`, `#/definitions/Name`) within `root`. */
function resolve(node: unknown, root: JsonSchema): Record<string, unknown> | undefined {
  if (!isRecord(node)) return undefined;
  const ref = own(node, '$ref');
  if (typeof ref !== 'string') return node;
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  const defs = m ? own(root, m[1] as string) : undefined;
  return m && isRecord(defs) ? resolve(own(defs, m[2] as string), root) : undefined;
}

/** The property names of an object node: what a user may write at `path` (undefined: not an object). */
export function propertiesAt(
  schema: JsonSchema,
  path: readonly (string | number)[],
): string[] | undefined {
  let node = resolve(schema, schema);
  for (const key of path) {
    if (!node) return undefined;
    const props = own(node, 'properties');
    node = resolve(
      typeof key === 'number' ? own(node, 'items') : isRecord(props) ? own(props, key) : undefined,
      schema,
    );
  }
  const props = node ? own(node, 'properties') : undefined;
  return isRecord(props) ? Object.keys(props) : undefined;
}

/**
 * Keys of `input` that `schema` does not have, at any depth, each with the closest valid key.
 * An object node is closed unless its schema allows additional properties explicitly (zod's
 * `z.looseObject`, `z.record`); a plain `z.object`, which would drop unknown keys silently, counts
 * as closed: a typo must be reported, never lost.
 */
export function unknownKeyIssues(schema: JsonSchema, input: unknown): IssuePath[] {
  const issues: IssuePath[] = [];
  const walk = (node: unknown, value: unknown, path: (string | number)[]): void => {
    const s = resolve(node, schema);
    if (!s) return;
    const props = own(s, 'properties');
    if (isRecord(props) && isRecord(value)) {
      const extra = own(s, 'additionalProperties');
      const closed = extra === undefined || extra === false;
      const known = Object.keys(props);
      for (const key of Object.keys(value)) {
        if (Object.hasOwn(props, key)) walk(props[key], value[key], [...path, key]);
        else if (closed) {
          const suggestion = closestMatch(key, known);
          issues.push({
            path: [...path, key].join('.'),
            message: suggestion
              ? `unknown option (did you mean ${[...path, suggestion].join('.')}?)`
              : 'unknown option (this object takes no options)',
            ...(suggestion ? { suggestion: [...path, suggestion].join('.') } : {}),
          });
        }
      }
      return;
    }
    const items = own(s, 'items');
    if (Array.isArray(value) && isRecord(items)) {
      value.forEach((item, i) => {
        walk(items, item, [...path, i]);
      });
    }
  };
  walk(schema, input, []);
  return issues;
}
