export * from './suite.js';
export * from './test-engine.js';
