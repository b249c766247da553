import { describe, expect, it } from 'vitest';
import { createProgress, describeDetail, formatBytes } from './progress.js';

const sink = () => {
  const chunks: string[] = [];
  return { chunks, stream: { write: (c: string | Uint8Array) => chunks.push(String(c)) > 0 } };
};
const pull = (current: number, total: number, done: number) => ({
  unit: 'bytes' as const,
  current,
  total,
  item: 'a1b2c3d4e5f6',
  parts: { done, total: 2 },
});

describe('progress on stderr', () => {
  it('formats sizes and measured detail', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500)).toBe('1.5 kB');
    expect(formatBytes(3_001_131)).toBe('3.0 MB');
    expect(formatBytes(27_100_000)).toBe('27 MB');
    expect(describeDetail(pull(1_500_000, 3_000_000, 1), true)).toBe(
      `[${'█'.repeat(10)}${'░'.repeat(10)}] 1.5 MB/3.0 MB 1/2 parts`,
    );
    expect(describeDetail({ parts: { done: 1, total: 3 } }, true)).toBe('1/3 parts');
    expect(describeDetail(undefined, true)).toBe('');
  });

  it('on a terminal draws the step with a bar, at once when the step changes', () => {
    const { chunks, stream } = sink();
    const p = createProgress(stream, 'bar', 'creating docker:web');
    p.step('pulling img:1', pull(0, 3_000_000, 0));
    p.step('pulled img:1', pull(3_000_000, 3_000_000, 2));
    p.stop();
    const drawn = chunks.join('');
    expect(drawn).toContain(
      'creating docker:web — pulling img:1 [░░░░░░░░░░░░░░░░░░░░] 0 B/3.0 MB 0/2 parts',
    );
    expect(drawn).toContain(`pulled img:1 [${'█'.repeat(20)}] 3.0 MB/3.0 MB 2/2 parts`);
    expect(chunks.at(-1)).toBe('\r\x1b[2K');
  });

  it('piped: nothing for plain steps, one line when measured work starts and one at the end', () => {
    const { chunks, stream } = sink();
    const p = createProgress(stream, 'lines', 'creating docker:web');
    p.step('waiting for the engine');
    p.step('pulling img:1');
    p.step('pulling img:1', pull(0, 3_000_000, 0));
    p.step('pulling img:1', pull(1_000_000, 3_000_000, 0));
    p.step('pulled img:1', pull(3_000_000, 3_000_000, 2));
    p.stop();
    expect(chunks.join('')).toMatch(
      /^pulling img:1 …\npulled img:1: 3\.0 MB\/3\.0 MB 2\/2 parts \(\d.*\)\n$/,
    );
    expect(chunks.join('')).not.toContain('\x1b');
    const quiet = sink();
    const q = createProgress(quiet.stream, 'lines', 'starting');
    q.step('waiting for SSH');
    q.stop();
    expect(quiet.chunks).toEqual([]);
  });

  it('--json: nothing at all', () => {
    const { chunks, stream } = sink();
    const p = createProgress(stream, 'off', 'x');
    p.step('pulling img:1', pull(0, 1, 0));
    p.stop();
    expect(chunks).toEqual([]);
  });
});
