/**
 * A fake `linuxkit` (core's createFakeCli) whose `build` writes the outputs a real build would,
 * from the files given (e.g. the test guest's kernel and initrd), and keeps the YAML it got.
 * A YAML containing `FAIL-BUILD` fails like linuxkit does; `NO-OUTPUT` exits 0 writing nothing.
 */
import { createFakeCli, type FakeCli } from '@vms/core/testing';

export interface FakeOutputs {
  kernel: string;
  initrd: string;
  iso: string;
  cmdline: string;
}

export function createFakeLinuxkit(outputs: FakeOutputs): Promise<FakeCli> {
  return createFakeCli({
    name: 'linuxkit',
    script: `
import fs from 'node:fs';
import path from 'node:path';
const src = ${JSON.stringify(outputs)};
if (argv[0] === 'version') { out('linuxkit version v1.8.2\\ncommit: 0000000\\n'); exit(0); }
if (argv[0] !== 'build') { err('Error: unknown command ' + JSON.stringify(argv[0]) + '\\n'); exit(1); }
const flag = (name, dflt) => { const i = argv.indexOf(name); return i === -1 ? dflt : argv[i + 1]; };
const file = argv[argv.length - 1];
const yaml = fs.readFileSync(file, 'utf8');
state.yamls = [...(state.yamls ?? []), yaml];
const format = flag('--format', 'kernel+initrd');
const outDir = flag('--dir', process.cwd());
const name = flag('--name', path.basename(file).replace(/\\.ya?ml$/, ''));
if (yaml.includes('FAIL-BUILD')) {
  err('Error: invalid config: FAIL-BUILD\\n2026/03/27 12:00:00 error during command execution: invalid config: FAIL-BUILD\\n');
  exit(1);
}
const b = path.join(outDir, name);
if (!yaml.includes('NO-OUTPUT')) {
  if (format === 'kernel+initrd') {
    fs.copyFileSync(src.kernel, b + '-kernel');
    fs.copyFileSync(src.initrd, b + '-initrd.img');
    fs.writeFileSync(b + '-cmdline', src.cmdline);
    err('Create outputs:\\n  ' + [b + '-kernel', b + '-initrd.img', b + '-cmdline'].join(' ') + '\\n');
  } else if (format === 'iso-bios') {
    fs.copyFileSync(src.iso, b + '.iso');
    err('Create outputs:\\n  ' + b + '.iso\\n');
  } else {
    err('Error: unsupported format ' + format + '\\n');
    exit(1);
  }
}
`,
  });
}
