/**
 * A backend's options JSON Schema (zod's `toJSONSchema`, input side) → the fields of the create
 * form, and the form's text values → the options object sent to the server. Pure: no DOM.
 */

type Schema = Record<string, unknown>;

export type FieldKind =
  | 'text'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'list'
  | 'keyvalue'
  | 'json';

export interface Field {
  key: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  choices?: string[];
  /** The schema's default, as the form shows it. */
  placeholder?: string;
  defaultChecked?: boolean;
}

const isObject = (v: unknown): v is Schema =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOf(s: Schema): Pick<Field, 'kind' | 'choices'> {
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string'))
    return { kind: 'enum', choices: s.enum as string[] };
  switch (s.type) {
    case 'string':
      return { kind: 'text' };
    case 'number':
      return { kind: 'number' };
    case 'integer':
      return { kind: 'integer' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'array':
      return isObject(s.items) && s.items.type === 'string' ? { kind: 'list' } : { kind: 'json' };
    case 'object':
      if (
        !isObject(s.properties) &&
        isObject(s.additionalProperties) &&
        s.additionalProperties.type === 'string'
      )
        return { kind: 'keyvalue' };
      return { kind: 'json' };
    default:
      return { kind: 'json' };
  }
}

/** The form's fields, required ones first, then in the schema's order. */
export function fieldsOf(schema: unknown): Field[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const fields: Field[] = Object.entries(schema.properties).map(([key, raw]) => {
    const s = isObject(raw) ? raw : {};
    const field: Field = { key, required: required.has(key), ...kindOf(s) };
    if (typeof s.description === 'string') field.description = s.description;
    if (s.default !== undefined) {
      if (field.kind === 'boolean') field.defaultChecked = s.default === true;
      else if (
        !(Array.isArray(s.default) && s.default.length === 0) &&
        !(isObject(s.default) && Object.keys(s.default).length === 0)
      )
        field.placeholder = typeof s.default === 'string' ? s.default : JSON.stringify(s.default);
    }
    return field;
  });
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

export type FormValues = Record<string, string | boolean>;

/** Options from the form's values; `errors` names each field whose text does not parse. */
export function optionsFrom(
  fields: readonly Field[],
  values: FormValues,
): { options: Record<string, unknown>; errors: Record<string, string> } {
  const options: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.key];
    if (f.kind === 'boolean') {
      if (typeof v === 'boolean' && v !== (f.defaultChecked ?? false)) options[f.key] = v;
      continue;
    }
    const text = typeof v === 'string' ? v.trim() : '';
    if (!text) continue;
    switch (f.kind) {
      case 'number':
      case 'integer': {
        const n = Number(text);
        if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n)))
          errors[f.key] = `must be ${f.kind === 'integer' ? 'a whole number' : 'a number'}`;
        else options[f.key] = n;
        break;
      }
      case 'list':
        options[f.key] = text
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        break;
      case 'keyvalue': {
        const map: Record<string, string> = Object.create(null) as Record<string, string>;
        for (const line of text
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)) {
          const eq = line.indexOf('=');
          if (eq <= 0) {
            errors[f.key] = `"${line}" is not KEY=VALUE`;
            break;
          }
          map[line.slice(0, eq)] = line.slice(eq + 1);
        }
        options[f.key] = map;
        break;
      }
      case 'json':
        try {
          options[f.key] = JSON.parse(text);
        } catch {
          errors[f.key] = 'is not valid JSON';
        }
        break;
      default:
        options[f.key] = text;
    }
  }
  return { options, errors };
}
