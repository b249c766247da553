// A process that fills a docker pool and then dies without closing it (SIGKILL), as after a
// crash: prints the pool's instance names on stdout first. Used by pool.docker.test.ts.
//
//   node crash-child.mjs NAME_PREFIX IMAGE [NETWORK] [LABELS_JSON]   (the test run's labels)
import { createDocker } from '@vms/docker';
import { createPool } from '@vms/pool';

const [namePrefix, image, network, labels] = process.argv.slice(2);
const pool = createPool({
  backend: createDocker(),
  namePrefix,
  options: {
    image,
    ...(network ? { network } : {}),
    ...(labels ? { labels: JSON.parse(labels) } : {}),
  },
  min: 2,
  max: 3,
  recycle: 'snapshot',
});
await pool.ready({ timeoutMs: 120_000 });
const lease = await pool.acquire({ timeoutMs: 120_000 }); // one busy
await pool.ready({ timeoutMs: 120_000 }); // and two warm again
process.stdout.write(`${JSON.stringify({ id: pool.id, busy: lease.name })}\n`);
process.kill(process.pid, 'SIGKILL');
