export {
  type ContainerBackend,
  type ContainerOptions,
  type ContainerOptionsInput,
  containerOptionsSchema,
} from '@vms/container-engine';
export { dockerDialect } from './dialect.js';
export { createDocker, type DockerSettings, docker } from './docker.js';
