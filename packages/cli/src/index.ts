/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/** `@vms/cli` as a library: run the `vms` command in-process (used by the bundled `vms-all`). */
export type { BuiltinBackends } from './discovery.js';
export { EXIT, exitCodeFor } from './exit-codes.js';
export { BACKEND_PACKAGE_PATTERN, FIRST_PARTY } from './first-party.js';
export { type CliOptions, cliMain, exitWhenFlushed } from './main.js';
export { JSON_SCHEMA } from './output.js';
