import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInstance } from '@vms/core';
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notes } from './notes-backend.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('the README guide example', () => {
  it('is the same code as the README shows', () => {
    const readme = readFileSync(join(here, '..', '..', 'README.md'), 'utf8');
    const source = readFileSync(join(here, 'notes-backend.ts'), 'utf8');
    const block = /```ts example=notes-backend\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README.md has no ```ts example=notes-backend block').toBeDefined();
    expect(block?.trim()).toBe(source.trim());
  });

  it('runs: create, start, exec, stop, delete', async () => {
    await using vm = createInstance(
      notes,
      'guide-1',
      { greeting: 'hi' },
      { lockDir: join(here, '.locks-test') },
    );
    await vm.create();
    await vm.start();
    const r = await vm.exec(['echo', 'there']);
    expect(r.stdout).toBe('hi there\n');
    await vm.stop();
    expect(vm.state.name).toBe('stopped');
  });
});

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'notes (guide example)',
    backend: () => notes,
    // The example's exec only knows `echo` with a greeting; the exec group needs a real shell.
    skip: { exec: true },
  },
);
