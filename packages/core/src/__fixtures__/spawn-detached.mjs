// Starts `sleep 1000` with runner.spawn({ detached: true }), prints its PID and exits at once:
// the sleep must outlive this process. Imports the built module (run `pnpm build` first).
import { createRunner } from '../../dist/index.js';

const proc = createRunner().spawn(['sleep', '1000'], { detached: true });
process.stdout.write(`${proc.pid}\n`);
