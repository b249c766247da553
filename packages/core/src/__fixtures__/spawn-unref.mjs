// Starts `sleep 1000` with runner.spawn({ unref: true }) streaming its output, prints its PID and
// returns from the script: the piped watcher must not keep this process alive, and it must not
// outlive it either (its group is killed at exit). Imports the built module.
import { createRunner } from '../../dist/index.js';

const proc = createRunner().spawn(['sh', '-c', 'echo started; exec sleep 1000'], {
  unref: true,
  onStdout: () => {},
});
process.stdout.write(`${proc.pid}\n`);
