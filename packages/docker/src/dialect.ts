/** What is docker-specific, as data for @vms/container-engine. */
import { CONTAINER_STATES, type ContainerDialect } from '@vms/container-engine';

export const dockerDialect: ContainerDialect = {
  name: 'docker',
  binary: 'docker',
  states: CONTAINER_STATES,
  defaultSockets: ['/var/run/docker.sock', '$XDG_RUNTIME_DIR/docker.sock'],
  hostEnv: ['DOCKER_HOST'],
  contexts: true,
  hostFlag: (host) => ['--host', host],
  unavailableHint:
    'start the docker engine: `systemctl start docker` (or `dockerd &`), or point DOCKER_HOST / the `host` setting at a running one',
  installHint: 'install docker: `apt-get install docker.io` (Debian/Ubuntu) or Docker Desktop',
};
