// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template text with ${VAR} references is the subject under test
import { describe, expect, it } from 'vitest';
import { substituteVariables, templateVariables } from './template-vars.js';

function failure(template: string, vars: Record<string, string> = {}) {
  try {
    substituteVariables(template, vars, 'template t');
  } catch (error) {
    return error as { code: string; issues: { path: string; message: string }[]; hint?: string };
  }
  throw new Error('expected substitution to fail');
}

describe('substituteVariables', () => {
  it('substitutes required and default references', () => {
    expect(substituteVariables('a: ${A}\nb: ${B:-two}\nc: ${C-three}\n', { A: '1' })).toBe(
      'a: 1\nb: two\nc: three\n',
    );
    expect(substituteVariables('${B:-two} ${C-three}', { B: 'x', C: 'y' })).toBe('x y');
  });

  it('`:-` takes the default for an empty value, `-` only for an unset one (like the shell)', () => {
    expect(substituteVariables('[${A:-d}] [${A-d}] [${A}]', { A: '' })).toBe('[d] [] []');
  });

  it('is one pass: values are never re-expanded', () => {
    const out = substituteVariables('x: ${A}\ny: ${B:-d}', { A: '${B}', B: '$${A}' });
    // A's value stays literal; B's value too (its $${ is not an escape: values are not parsed).
    expect(out).toBe('x: ${B}\ny: $${A}');
  });

  it('a default is literal text (no expansion inside it)', () => {
    expect(substituteVariables('${X:-$HOME and $${Y}', {})).toBe('$HOME and $${Y');
  });

  it('$${ is a literal ${, and a lone $ stays', () => {
    expect(substituteVariables('cost $5, keep $${NOT_A_VAR} and $${', {})).toBe(
      'cost $5, keep ${NOT_A_VAR} and ${',
    );
  });

  it('reports every missing variable at once, once each, in one InvalidOptionsError', () => {
    const e = failure('${A} ${B:-b} ${C}\n${A}\n${D}', {});
    expect(e.code).toBe('INVALID_OPTIONS');
    expect(e.issues.map((i) => i.path)).toEqual(['vars.A', 'vars.C', 'vars.D']);
    expect(e.issues[0]?.message).toMatch(/template t needs variable A/);
    expect(e.hint).toMatch(/A, C, D/);
  });

  it('reports malformed references with their line and column, with the missing ones', () => {
    const e = failure('ok: 1\nbad: ${1X}\nopen: ${A\nmissing: ${M}', {});
    expect(e.issues.map((i) => i.path)).toEqual(['vars.M', 'template t:2:6', 'template t:3:7']);
    expect(e.issues[1]?.message).toMatch(/malformed variable reference "\$\{1X\}"/);
  });

  it('leaves whole-line comments alone (a header may document ${VAR})', () => {
    expect(substituteVariables('  # needs ${SSH_KEY}\nkey: ${SSH_KEY}', { SSH_KEY: 'k' })).toBe(
      '  # needs ${SSH_KEY}\nkey: k',
    );
    expect(substituteVariables('# only ${DOC}\n', {})).toBe('# only ${DOC}\n');
  });

  it('does not treat inherited object keys as set', () => {
    expect(failure('${toString}').issues[0]?.path).toBe('vars.toString');
  });
});

describe('templateVariables', () => {
  it('lists required names and defaults; a name used both ways is required', () => {
    expect(templateVariables('# ${DOC}\n${B} ${A:-1} ${C-2} ${B:-x} $${E} ${A:-3}')).toEqual({
      required: ['B'],
      optional: { A: '1', C: '2' },
    });
  });
});
