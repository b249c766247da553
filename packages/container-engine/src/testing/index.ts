export * from './private-dockerd.js';
export * from './pull-suite.js';
export * from './registry.js';
export * from './suite.js';
export * from './test-engine.js';
