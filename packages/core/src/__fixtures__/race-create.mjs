// argv: <world.json> <owner> <startAt epoch ms>. At startAt (so racing processes are aligned
// whatever their start-up time), creates instance "raced" through the runtime; prints the outcome.
import { createInstance } from '../../dist/index.js';
import { fileBackend } from './file-backend.mjs';

const [world, owner, startAt] = process.argv.slice(2);
const vm = createInstance(fileBackend(world), 'raced', { owner });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
try {
  await vm.create();
  console.log(JSON.stringify({ owner, ok: true }));
} catch (error) {
  console.log(JSON.stringify({ owner, ok: false, code: error.code }));
}
