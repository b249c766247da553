/**
 * The real `podman machine`, when it works here (it refuses root and needs virtualisation, so in
 * this CI it is skipped with the reason printed). Read-only: lists machines and checks detect().
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createPodmanMachine } from './machine.js';

function skipReason(): string | undefined {
  try {
    execFileSync('podman', ['machine', 'list', '--format', 'json'], {
      stdio: 'pipe',
      timeout: 30_000,
    });
    return undefined;
  } catch (error) {
    const text = String((error as { stderr?: Buffer }).stderr ?? error).trim();
    return `\`podman machine list\` does not work here: ${text.split('\n').pop()}`;
  }
}

const skip = skipReason();
if (skip) console.warn(`[skipped] real podman machine tests: ${skip}`);

describe('podman-machine against the real podman', () => {
  it.skipIf(skip !== undefined)(
    'detects podman machine and lists machines like the CLI does',
    async () => {
      const backend = createPodmanMachine();
      expect((await backend.detect()).available).toBe(true);
      const raw = JSON.parse(
        execFileSync('podman', ['machine', 'list', '--format', 'json'], { encoding: 'utf8' }) ||
          '[]',
      ) as { Name: string }[];
      const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
      expect(listed.map((m) => m.name).sort()).toEqual(raw.map((m) => m.Name).sort());
    },
  );
});
