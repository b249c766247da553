import { defineConfig } from 'tsup';

// One ES module tree in dist/: the CLI, core and every first-party backend with their
// dependencies (zod, execa) inlined. Each backend stays its own chunk, loaded only when a command
// needs it, so `vms-all --version` stays as cheap as `vms --version`.
export default defineConfig({
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20.19',
  splitting: true,
  treeshake: true,
  dts: false,
  sourcemap: false,
  clean: true,
  removeNodeProtocol: false,
  noExternal: [/.*/],
  // Some inlined CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __vmsCreateRequire } from 'node:module'; const require = __vmsCreateRequire(import.meta.url);",
  },
});
