import type { ProgressDetail } from '@vms/core';
import { describe, expect, it } from 'vitest';
import {
  dockerPullLine,
  layerEventOf,
  lineSplitter,
  PullTracker,
  podmanPullLine,
  pullErrorOf,
} from './pull.js';

describe('pull progress', () => {
  it('reads docker and podman API messages (podman 4.3 compat output as recorded)', () => {
    expect(
      layerEventOf({ status: 'Pulling fs layer', id: '045d3fa24047', progressDetail: {} }),
    ).toEqual({
      id: '045d3fa24047',
      status: 'waiting',
    });
    expect(
      layerEventOf({
        status: 'Downloading',
        id: 'a1b2c3d4e5f6',
        progressDetail: { current: 10, total: 100 },
      }),
    ).toEqual({ id: 'a1b2c3d4e5f6', status: 'downloading', current: 10, total: 100 });
    for (const status of ['Download complete', 'Pull complete', 'Already exists', 'Extracting'])
      expect(layerEventOf({ status, id: 'a1b2c3d4e5f6' })?.status).toBe('done');
    // About the whole image, not a layer.
    expect(layerEventOf({ status: 'Pulling from containers-proto/bb', id: '1' })).toBeUndefined();
    expect(layerEventOf({ status: 'Digest: sha256:bc83' })).toBeUndefined();
    // API ≥ 1.52 drops `error`; podman 4.3 sends both.
    expect(pullErrorOf({ errorDetail: { message: 'manifest unknown' } })).toBe('manifest unknown');
    expect(pullErrorOf({ error: 'old style' })).toBe('old style');
    expect(pullErrorOf({ status: 'ok' })).toBeUndefined();
  });

  it('reads the CLIs lines (docker stdout, podman stderr)', () => {
    expect(dockerPullLine('2244c1459aed: Pull complete')).toEqual({
      id: '2244c1459aed',
      status: 'done',
    });
    expect(dockerPullLine('1: Pulling from containers-proto/bb')).toBeUndefined();
    expect(dockerPullLine('Status: Downloaded newer image for x')).toBeUndefined();
    expect(podmanPullLine(`Copying blob sha256:ad91edb0c720${'0'.repeat(52)}`)).toEqual({
      id: 'ad91edb0c720',
      status: 'waiting',
    });
    expect(podmanPullLine('Copying blob ad91edb0c720 done')?.status).toBe('done');
    expect(podmanPullLine('Copying blob ad91edb0c720 skipped: already exists')?.status).toBe(
      'done',
    );
    expect(podmanPullLine('Copying config sha256:045d3fa24047')).toBeUndefined();
  });

  it('folds layers into steps with bytes and layers done, throttling byte updates', () => {
    const seen: { step: string; detail?: ProgressDetail }[] = [];
    const t = new PullTracker(
      'img:1',
      (step, detail) => seen.push({ step, ...(detail ? { detail } : {}) }),
      60_000,
    );
    t.begin();
    t.push({ id: 'aaaaaaaaaaaa', status: 'waiting' });
    t.push({ id: 'bbbbbbbbbbbb', status: 'downloading', current: 5, total: 50 });
    t.push({ id: 'bbbbbbbbbbbb', status: 'downloading', current: 25, total: 50 }); // throttled
    t.push({ id: 'bbbbbbbbbbbb', status: 'done' });
    t.end();
    expect(seen.map((s) => s.step)).toEqual([
      'pulling img:1',
      'pulling img:1',
      'pulling img:1',
      'pulling img:1',
      'pulled img:1',
    ]);
    expect(seen[2]?.detail).toEqual({
      unit: 'bytes',
      current: 5,
      total: 50,
      item: 'bbbbbbbbbbbb',
      parts: { done: 0, total: 2 },
    });
    expect(seen[3]?.detail).toMatchObject({ current: 50, total: 50, parts: { done: 1, total: 2 } });
    expect(seen[4]?.detail).toEqual({
      unit: 'bytes',
      current: 50,
      total: 50,
      parts: { done: 2, total: 2 },
    });
  });

  it('splits chunks into lines across chunk boundaries and carriage returns', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    s.push(Buffer.from('a: one\nb: t'));
    s.push(Buffer.from('wo\r\nc: three\rd'));
    s.flush();
    expect(lines).toEqual(['a: one', 'b: two', 'c: three', 'd']);
  });
});
