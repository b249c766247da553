/**
 * The one build of every published package: ESM for Node ≥ 20.19, the package's own modules
 * bundled per entry point (shared code in chunks), its dependencies and peers left as imports
 * (tsup's default). Declarations come from `tsc --emitDeclarationOnly` (TypeScript 7 has no
 * compiler API for tsup's dts), so each entry's `.d.ts` sits where its `.js` is. Each `.js`
 * ships its source map with the sources inlined, as tsc's `inlineSources` did.
 */
import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';

/**
 * Every package the manifest names stays an import. tsup leaves dependencies and peers out of
 * the bundle but would inline a devDependency that the code imports: an optional one loaded
 * only when present (the CLI's `import('@vms/ui')`) must stay a runtime import too.
 */
function manifestPackages(): string[] {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  return ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'].flatMap(
    (field) => Object.keys(manifest[field] ?? {}),
  );
}

export function packageBuild(entry: Record<string, string>, extra: Options = {}): Options {
  const { external = [], ...rest } = extra;
  return {
    entry,
    external: [...manifestPackages(), ...external],
    format: ['esm'],
    platform: 'node',
    target: 'node20.19',
    splitting: true,
    dts: false,
    // Source maps, sources inlined (esbuild's default), so stacks point at the TypeScript.
    sourcemap: true,
    clean: true,
    shims: false,
    silent: true,
    // Keep `node:` specifiers as written (tsup strips them by default).
    removeNodeProtocol: false,
    ...rest,
  };
}
