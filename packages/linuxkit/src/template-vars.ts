/**
 * `${VAR}` / `${VAR:-default}` / `${VAR-default}` substitution in ONE pass over the template:
 * a value is inserted as it is and never looked at again (a value holding `${X}` stays literal),
 * `$${` is a literal `${`, and every missing variable is reported at once.
 *
 * - `${VAR}`: required; missing (unset) → error.
 * - `${VAR:-default}`: the default when VAR is unset or empty (like the shell).
 * - `${VAR-default}`: the default only when VAR is unset.
 * - A default is literal text up to the first `}` (no nesting, no expansion inside it).
 * - A reference stays on one line; whole-line `#` comments are left as they are.
 */
import { InvalidOptionsError, type IssuePath } from '@vms/core';

export type TemplateVars = Record<string, string>;

type Token =
  | { type: 'text'; text: string }
  | { type: 'ref'; name: string; op?: ':-' | '-'; fallback?: string };

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const COMMENT_LINE = /^[ \t]*#/;

/**
 * Splits a template into text and references; malformed references are returned as issues.
 * Whole-line YAML comments are text: a header may mention `${VAR}` without needing it.
 */
function tokenize(template: string, source: string): { tokens: Token[]; issues: IssuePath[] } {
  const tokens: Token[] = [];
  const issues: IssuePath[] = [];
  let text = '';
  const lines = template.split('\n');
  lines.forEach((lineText, index) => {
    const line = index + 1;
    const eol = index < lines.length - 1 ? '\n' : '';
    if (COMMENT_LINE.test(lineText)) {
      text += lineText + eol;
      return;
    }
    let i = 0;
    while (i < lineText.length) {
      const dollar = lineText.indexOf('$', i);
      if (dollar === -1) {
        text += lineText.slice(i);
        break;
      }
      text += lineText.slice(i, dollar);
      if (lineText.startsWith('$${', dollar)) {
        text += '${';
        i = dollar + 3;
        continue;
      }
      if (!lineText.startsWith('${', dollar)) {
        text += '$';
        i = dollar + 1;
        continue;
      }
      NAME.lastIndex = dollar + 2;
      const name = NAME.exec(lineText)?.[0];
      let at = dollar + 2 + (name?.length ?? 0);
      let op: ':-' | '-' | undefined;
      if (lineText.startsWith(':-', at)) op = ':-';
      else if (lineText[at] === '-') op = '-';
      if (op) at += op.length;
      const close = lineText.indexOf('}', at);
      if (!name || close === -1 || (!op && close !== at)) {
        issues.push({
          path: `${source}:${line}:${dollar + 1}`,
          message: `malformed variable reference ${JSON.stringify(lineText.slice(dollar, close === -1 ? undefined : close + 1))} (write $\${ for a literal \${)`,
        });
        text += '${';
        i = dollar + 2;
        continue;
      }
      if (text) tokens.push({ type: 'text', text });
      text = '';
      tokens.push({
        type: 'ref',
        name,
        ...(op ? { op, fallback: lineText.slice(at, close) } : {}),
      });
      i = close + 1;
    }
    text += eol;
  });
  if (text) tokens.push({ type: 'text', text });
  return { tokens, issues };
}

export interface TemplateVariables {
  /** Names that must be given, sorted. */
  required: string[];
  /** Names with a default, and the default. */
  optional: Record<string, string>;
}

/** The variables a template uses (a name used both ways counts as required). */
export function templateVariables(template: string): TemplateVariables {
  const required = new Set<string>();
  const optional: Record<string, string> = {};
  for (const t of tokenize(template, 'template').tokens) {
    if (t.type !== 'ref') continue;
    if (t.op) {
      if (!(t.name in optional)) optional[t.name] = t.fallback ?? '';
    } else required.add(t.name);
  }
  for (const name of required) delete optional[name];
  return { required: [...required].sort(), optional };
}

/**
 * Substitutes `vars` into `template` in one pass. Throws one InvalidOptionsError listing every
 * missing variable (paths `vars.NAME`) and every malformed reference.
 */
export function substituteVariables(
  template: string,
  vars: TemplateVars,
  source = 'template',
): string {
  const { tokens, issues } = tokenize(template, source);
  const missing: string[] = [];
  let out = '';
  for (const t of tokens) {
    if (t.type === 'text') {
      out += t.text;
      continue;
    }
    const set = Object.hasOwn(vars, t.name);
    const value = set ? vars[t.name] : undefined;
    if (t.op === ':-') out += value ? value : (t.fallback ?? '');
    else if (t.op === '-') out += set ? (value ?? '') : (t.fallback ?? '');
    else if (set) out += value ?? '';
    else if (!missing.includes(t.name)) missing.push(t.name);
  }
  const all: IssuePath[] = [
    ...missing.map((name) => ({
      path: `vars.${name}`,
      message: `${source} needs variable ${name}, which is not set`,
    })),
    ...issues,
  ];
  if (all.length > 0) {
    throw new InvalidOptionsError(all, {
      hint: missing.length
        ? `set ${missing.join(', ')} (missing: ${missing.length})`
        : 'fix the template',
    });
  }
  return out;
}
