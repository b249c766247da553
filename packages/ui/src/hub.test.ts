/** The live model: transitions with their times, deletions, what each state offers, and latency percentiles. */
import { createMockBackend } from '@vms/core/testing';
import { describe, expect, it } from 'vitest';
import { Hub } from './hub.js';
import { percentile } from './latency.js';
import type { HubMessage } from './protocol.js';

const caps = createMockBackend().capabilities;

describe('Hub', () => {
  it('records a transition only when the state changes, and marks vanished instances deleted', () => {
    const hub = new Hub();
    const seen: HubMessage[] = [];
    hub.subscribe((m) => seen.push(m));
    hub.setBackend({ name: 'mock', available: true, live: 'events', capabilities: caps });
    hub.applyList('mock', [{ name: 'a', state: 'running', managed: true }]);
    hub.applyList('mock', [{ name: 'a', state: 'running', managed: true }]);
    hub.applyList('mock', [{ name: 'a', state: 'suspended', managed: true }]);
    hub.applyList('mock', []);
    const states = seen.flatMap((m) => (m.type === 'transition' ? [m.entry.state] : []));
    expect(states).toEqual(['running', 'suspended', 'deleted']);
    expect(hub.snapshot().history['mock:a']?.map((h) => h.source)).toEqual([
      'observed',
      'observed',
      'observed',
    ]);
  });

  it('offers core’s legal, non-no-op actions of each state (resume, not start, when suspended)', () => {
    const hub = new Hub();
    hub.setBackend({ name: 'mock', available: true, live: 'poll', capabilities: caps });
    const offer = (state: 'running' | 'stopped' | 'suspended') => {
      hub.applyList('mock', [{ name: 'a', state, managed: true }]);
      return hub.instance('mock:a')?.actions;
    };
    expect(offer('running')).toEqual(['stop', 'suspend', 'delete', 'snapshot', 'refresh']);
    expect(offer('stopped')).toEqual(['start', 'delete', 'snapshot', 'refresh']);
    expect(offer('suspended')).toEqual(['stop', 'resume', 'delete', 'snapshot', 'refresh']);
  });

  it('keeps an instance an action of this dashboard is working on (creating) when a listing misses it', () => {
    const hub = new Hub();
    hub.setBackend({ name: 'mock', available: true, live: 'events', capabilities: caps });
    hub.opBegin('mock:new', 'create');
    hub.applyState('mock:new', 'mock', 'new', 'creating', 'ui', undefined, 'create');
    hub.applyList('mock', []);
    expect(hub.instance('mock:new')).toMatchObject({
      state: 'creating',
      busy: { action: 'create' },
    });
    hub.opEnd('mock:new', 'mock', 'create', true, 42);
    expect(hub.snapshot().latency).toEqual([
      expect.objectContaining({ backend: 'mock', op: 'create', count: 1, p50: 42, max: 42 }),
    ]);
  });

  it('nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([
      percentile(sorted, 50),
      percentile(sorted, 90),
      percentile(sorted, 99),
      percentile(sorted, 100),
    ]).toEqual([50, 90, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});
