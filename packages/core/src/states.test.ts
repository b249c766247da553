import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  type Action,
  legalActions,
  renderStateTable,
  STATES,
  type StateName,
  transition,
} from './states.js';

// The table restated independently, one cell per (state, action). Notation:
//   '✗' illegal · '=X' no-op leaving X · 'V>S/F' via V to S, on failure F ('prev' or 'broken') · 'obs' refresh
// biome-ignore format: a table reads best aligned
const EXPECTED: Record<StateName, Record<Action, string>> = {
  initial:    { create: 'creating>stopped/prev', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '=initial', refresh: 'obs' },
  creating:   { create: '✗', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '✗', refresh: 'obs' },
  stopped:    { create: '✗', start: 'starting>running/prev', stop: '=stopped', suspend: '✗', resume: '✗', delete: 'deleting>deleted/broken', refresh: 'obs' },
  starting:   { create: '✗', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '✗', refresh: 'obs' },
  running:    { create: '✗', start: '=running', stop: 'stopping>stopped/broken', suspend: 'suspending>suspended/prev', resume: '=running', delete: 'deleting>deleted/broken', refresh: 'obs' },
  suspending: { create: '✗', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '✗', refresh: 'obs' },
  suspended:  { create: '✗', start: 'resuming>running/prev', stop: 'stopping>stopped/broken', suspend: '=suspended', resume: 'resuming>running/prev', delete: 'deleting>deleted/broken', refresh: 'obs' },
  resuming:   { create: '✗', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '✗', refresh: 'obs' },
  stopping:   { create: '✗', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '✗', refresh: 'obs' },
  deleting:   { create: '✗', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '✗', refresh: 'obs' },
  deleted:    { create: 'creating>stopped/prev', start: '✗', stop: '✗', suspend: '✗', resume: '✗', delete: '=deleted', refresh: 'obs' },
  broken:     { create: '✗', start: '✗', stop: 'stopping>stopped/broken', suspend: '✗', resume: '✗', delete: 'deleting>deleted/broken', refresh: 'obs' },
};

function notation(state: StateName, action: Action): string {
  const t = transition(state, action);
  if (!t.legal) return '✗';
  if (t.noop) return `=${t.success}`;
  if (t.success === 'observed') {
    expect(t.via).toBe(state);
    return 'obs';
  }
  return `${t.via}>${t.success}/${t.failure === 'previous' ? 'prev' : 'broken'}`;
}

describe('state table', () => {
  for (const state of STATES) {
    for (const action of ACTIONS) {
      it(`${state} × ${action}`, () => {
        expect(notation(state, action)).toBe(EXPECTED[state][action]);
      });
    }
  }

  it('always allows delete from broken and refresh from everywhere', () => {
    expect(transition('broken', 'delete').legal).toBe(true);
    for (const s of STATES) expect(transition(s, 'refresh').legal).toBe(true);
  });

  it('lists legal actions in table order', () => {
    expect(legalActions('running')).toEqual([
      'start',
      'stop',
      'suspend',
      'resume',
      'delete',
      'refresh',
    ]);
    expect(legalActions('creating')).toEqual(['refresh']);
  });

  it('the README state table is generated from the table and up to date', () => {
    const readme = readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md'),
      'utf8',
    );
    const begin = '<!-- state-table:begin -->';
    const end = '<!-- state-table:end -->';
    const inside = readme.slice(readme.indexOf(begin) + begin.length, readme.indexOf(end)).trim();
    expect(inside, 'run `pnpm --filter @vms/core run gen-docs` to regenerate').toBe(
      renderStateTable(),
    );
  });
});
