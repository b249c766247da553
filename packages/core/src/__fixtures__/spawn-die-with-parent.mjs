// Starts `sleep 1000` with runner.spawn({ dieWithParent: true }) and prints the PID of the sleep
// once it runs, then stays alive until the test SIGKILLs it: the sleep must not outlive it.
import { createRunner } from '../../dist/index.js';

createRunner().spawn(['sh', '-c', 'echo $$; exec sleep 1000'], {
  dieWithParent: true,
  onStdout: (chunk) => process.stdout.write(chunk),
});
setInterval(() => {}, 1000);
