// Stands in for a QEMU caught daemonising, for unrecorded-qemu.test.ts: its argv carries the
// instance's `-pidfile PATH` as QEMU's does; it listens on the instance's QMP socket path, and
// when someone connects (a stop saying "quit") it forks its "daemon" — the same argv, role
// `daemon` — prints `daemon PID` and exits, as QEMU's parent does once its daemon is up.
// The daemon idles until killed.
//
//   node daemonising-qemu.mjs -pidfile PIDFILE QMP_SOCKET parent|daemon
import { spawn } from 'node:child_process';
import net from 'node:net';

const [, script, , pidFile, socket, role] = process.argv;
if (role === 'daemon') {
  setInterval(() => {}, 2 ** 30);
} else {
  const server = net.createServer(() => {
    const daemon = spawn(process.execPath, [script, '-pidfile', pidFile, socket, 'daemon'], {
      detached: true,
      stdio: 'ignore',
    });
    daemon.unref();
    daemon.on('spawn', () => process.stdout.write(`daemon ${daemon.pid}\n`, () => process.exit(0)));
  });
  server.listen(socket, () => process.stdout.write('listening\n'));
}
