/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export * from './private-dockerd.js';
export * from './pull-suite.js';
export * from './registry.js';
export * from './suite.js';
export * from './test-engine.js';
