/** `createPodman(settings)`: podman containers as @vms instances. */
import {
  type ContainerBackend,
  type ContainerSettingsInput,
  createContainerBackend,
} from '@vms/container-engine';
import { podmanDialect } from './dialect.js';

export interface PodmanSettings extends ContainerSettingsInput {}

/**
 * A podman backend. Settings: `host` (unix:// or tcp:// URL of a podman service; the CLI then runs
 * with `--remote --url`), `transport` ('auto' | 'api' | 'cli'), `runner`, `binary`, `env`.
 * `auto` uses the API when a podman service socket answers, the CLI otherwise.
 */
export function createPodman(settings: PodmanSettings = {}): ContainerBackend {
  return createContainerBackend(podmanDialect, settings);
}

/** The default podman backend (no I/O until used). */
export const podman: ContainerBackend = createPodman();
