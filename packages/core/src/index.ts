export * from './errors.js';
export * from './options.js';
export * from './runner.js';
export * from './spec.js';
