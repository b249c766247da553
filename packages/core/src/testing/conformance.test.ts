import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformanceSuite } from './conformance/index.js';
import { createMockBackend, mockObserver } from './mock-backend.js';

const t = { describe, it, expect, beforeAll, afterAll };

// The suite on the in-memory mock: every group it can run.
const mock = createMockBackend({ name: 'mock' });
runConformanceSuite(t, {
  name: 'mock',
  backend: () => mock,
  options: () => ({ image: 'mock:conformance' }),
  observe: mockObserver(mock),
  removeBehindBack: async (name) => mock.setBehindBack(name, 'absent'),
  skip: { ports: 'the mock forwards no real sockets' },
});

// … and on a mock without most capabilities: the refusals run, the groups say why they skip.
const bare = createMockBackend({
  name: 'mock-bare',
  capabilities: {
    suspend: false,
    exec: false,
    logs: false,
    snapshot: false,
    portForward: false,
    mounts: false,
  },
});
runConformanceSuite(t, {
  name: 'mock without capabilities',
  backend: () => bare,
  options: () => ({}),
  observe: mockObserver(bare),
});
