import { describe, expect, it } from 'vitest';
import { backendProblems } from './define-backend.js';
import { createMockBackend } from './testing/mock-backend.js';

describe('backendProblems: savedStates', () => {
  it('accepts a backend without savedStates, or with save, list and delete', () => {
    const backend = createMockBackend();
    expect(backendProblems(backend)).toEqual([]);
    const withSaved = {
      ...backend,
      savedStates: {
        save: async (name: string) => ({ name, options: {} }),
        list: async () => [],
        delete: async () => {},
      },
    };
    expect(backendProblems(withSaved)).toEqual([]);
  });

  it('names each missing savedStates method, and a savedStates that is not an object', () => {
    const backend = createMockBackend();
    expect(backendProblems({ ...backend, savedStates: { list: async () => [] } })).toEqual([
      'savedStates.save must be a function',
      'savedStates.delete must be a function',
    ]);
    expect(backendProblems({ ...backend, savedStates: 'yes' })).toEqual([
      'savedStates must be an object when present',
    ]);
  });
});
