/**
 * A minimal stand-in for vitest's registry, so a test can run the whole conformance suite against
 * a backend and read which tests failed, with their messages (the planted-bug meta-test).
 */
import { expect } from 'vitest';
import type { TestApi } from '../types.js';

type Fn = () => unknown;

export interface Outcome {
  /** `group > test` names. */
  passed: string[];
  skipped: string[];
  failed: { test: string; message: string }[];
}

export async function runSuiteInMemory(register: (t: TestApi) => void): Promise<Outcome> {
  const tests: { name: string; fn: Fn; timeout: number; skip: boolean }[] = [];
  const afters: Fn[] = [];
  const path: string[] = [];
  const describe = Object.assign(
    (name: string, fn: () => void) => {
      path.push(name);
      try {
        fn();
      } finally {
        path.pop();
      }
    },
    {
      skipIf: (condition: boolean) => (name: string, fn: () => void) => {
        if (!condition) return describe(name, fn);
        path.push(name);
        const before = tests.length;
        try {
          fn();
        } finally {
          path.pop();
        }
        for (const t of tests.slice(before)) t.skip = true;
      },
    },
  );
  const add = (skip: boolean) => (name: string, fn: Fn, timeout?: number) => {
    tests.push({
      name: [...path.slice(1), name].join(' > '),
      fn,
      timeout: timeout ?? 60_000,
      skip,
    });
  };
  const it = Object.assign(add(false), { skipIf: (condition: boolean) => add(condition) });
  register({ describe, it, expect, beforeAll: () => {}, afterAll: (fn) => afters.push(fn) });

  const outcome: Outcome = { passed: [], skipped: [], failed: [] };
  const run = async (name: string, fn: Fn, timeout: number) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`test timed out in ${timeout} ms`)), timeout);
        }),
      ]);
      outcome.passed.push(name);
    } catch (error) {
      outcome.failed.push({
        test: name,
        message: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '',
      });
    } finally {
      clearTimeout(timer);
    }
  };
  for (const t of tests) {
    if (t.skip) outcome.skipped.push(t.name);
    else await run(t.name, t.fn, t.timeout);
  }
  for (const fn of afters.reverse()) await run('afterAll', fn, 240_000);
  return outcome;
}
