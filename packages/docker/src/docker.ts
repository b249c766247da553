/** `createDocker(settings)`: docker containers as @vms instances. */
import {
  type ContainerBackend,
  type ContainerSettingsInput,
  createContainerBackend,
} from '@vms/container-engine';
import { dockerDialect } from './dialect.js';

export interface DockerSettings extends ContainerSettingsInput {}

/**
 * A docker backend. Settings: `host` (unix://, tcp://, ssh:// URL), `context` (docker context
 * name), `transport` ('auto' | 'api' | 'cli'), `runner`, `binary`, `env`. Without settings it
 * follows the docker CLI: DOCKER_HOST, DOCKER_CONTEXT, the current context, the default socket.
 */
export function createDocker(settings: DockerSettings = {}): ContainerBackend {
  return createContainerBackend(dockerDialect, settings);
}

/** The default docker backend (no I/O until used). */
export const docker: ContainerBackend = createDocker();
