/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/**
 * `@vms/core/testing`: the kit for backend authors. vitest stays external: the conformance
 * suite takes the test functions it uses.
 */
export * from './conformance/index.js';
export * from './fake-cli.js';
export * from './fake-tool.js';
export * from './fake-tool-tests.js';
export * from './faults.js';
export * from './mock-backend.js';
export * from './overhead-bench.js';
export * from './processes.js';
export * from './replay-runner.js';
export * from './test-run.js';
export * from './which.js';
