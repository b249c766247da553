/** What is podman-specific, as data for @vms/container-engine. */
import { CONTAINER_STATES, type ContainerDialect } from '@vms/container-engine';

export const podmanDialect: ContainerDialect = {
  name: 'podman',
  binary: 'podman',
  // podman adds `configured`, `initialized`, `stopped`, `stopping` (libpod/define/containerstate.go).
  states: CONTAINER_STATES,
  // The API socket only exists while `podman system service` (or its systemd socket) runs;
  // `transport: 'auto'` uses the CLI when nothing answers here.
  defaultSockets: ['/run/podman/podman.sock', '$XDG_RUNTIME_DIR/podman/podman.sock'],
  hostEnv: ['CONTAINER_HOST'],
  contexts: false,
  hostFlag: (host) => ['--remote', '--url', host],
  unavailableHint:
    'check `podman info`; for the API start `podman system service --time=0 unix:///run/podman/podman.sock &` (or `systemctl start podman.socket`)',
  installHint: 'install podman: `apt-get install podman` (Debian/Ubuntu)',
};
