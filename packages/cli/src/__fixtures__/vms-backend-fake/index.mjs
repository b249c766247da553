// A third-party backend as the CLI tests install it: core's mock backend, with its world kept in
// a JSON file ($FAKE_STATE_FILE) so separate `vms` processes see the same instances.
//   FAKE_FAULTS='[{"verb":"start","kind":"hang"}]'  injects faults (see MockFault);
//   FAKE_FAULTS_FOR=NAME                             … only into the backend called NAME
//   FAKE_CALLS_FILE=path                             appends "verb name" per driver call
//   FAKE_AVAILABLE=0                                 detect() says the tool is missing
//   FAKE_CAPABILITIES='{"portForward":false}'          overrides capabilities
// The backend is named by $FAKE_BACKEND_NAME, else package.json's fakeBackendName, else "fake".
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createMockBackend } from '@vms/core/testing';

const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const name = process.env.FAKE_BACKEND_NAME || manifest.fakeBackendName || 'fake';
const stateFile = process.env.FAKE_STATE_FILE && `${process.env.FAKE_STATE_FILE}.${name}`;
const mock = createMockBackend({
  name,
  available: process.env.FAKE_AVAILABLE !== '0',
  capabilities: JSON.parse(process.env.FAKE_CAPABILITIES || '{}'),
});
const faultsFor = process.env.FAKE_FAULTS_FOR;
if (!faultsFor || faultsFor === name) {
  for (const fault of JSON.parse(process.env.FAKE_FAULTS || '[]')) mock.inject(fault);
}

function load() {
  if (!stateFile || !existsSync(stateFile)) return;
  mock.world.clear();
  for (const r of JSON.parse(readFileSync(stateFile, 'utf8'))) {
    mock.world.set(r.name, {
      ...r,
      files: new Map(r.files),
      snapshots: new Map(),
      processes: new Map(),
    });
  }
}

function save() {
  if (!stateFile) return;
  const records = [...mock.world.values()].map((r) => ({
    ...r,
    files: [...r.files],
    snapshots: undefined,
    processes: undefined,
  }));
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(records));
  renameSync(`${stateFile}.tmp`, stateFile);
}

function logCall(verb, name) {
  if (process.env.FAKE_CALLS_FILE) appendFileSync(process.env.FAKE_CALLS_FILE, `${verb} ${name}\n`);
}

const MUTATING = new Set(['doCreate', 'doStart', 'doStop', 'doSuspend', 'doResume', 'doDelete']);

function driver(instance, options) {
  const inner = mock.driver(instance, options);
  const wrapped = {};
  for (const [key, fn] of Object.entries(inner)) {
    if (typeof fn !== 'function') continue;
    wrapped[key] = async (...args) => {
      logCall(key, instance);
      load();
      try {
        return await fn.apply(inner, args);
      } finally {
        if (MUTATING.has(key)) save();
      }
    };
  }
  wrapped.watch = inner.watch;
  return wrapped;
}

const fake = {
  ...mock,
  driver,
  async list(ctx) {
    load();
    return mock.list(ctx);
  },
};

export default fake;
