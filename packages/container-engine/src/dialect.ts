/**
 * What differs between docker-compatible engines, as data. `@vms/docker` and `@vms/podman` each
 * provide one; everything else is shared.
 */
import type { ObservedState } from '@vms/core';

export interface ContainerDialect {
  /** Backend name, e.g. "docker". */
  name: string;
  /** Default CLI binary. */
  binary: string;
  /** Engine status word → core state. Unknown words map to `broken`. */
  states: Record<string, ObservedState>;
  /** Unix sockets tried (in order) when no host is configured. `$XDG_RUNTIME_DIR` is expanded. */
  defaultSockets: string[];
  /** Environment variables naming the engine host, in precedence order (DOCKER_HOST, CONTAINER_HOST). */
  hostEnv: string[];
  /** Whether docker contexts (`--context`, DOCKER_CONTEXT, ~/.docker/config.json) apply. */
  contexts: boolean;
  /** CLI flags selecting a host, e.g. `-H URL` (docker) or `--url URL` (podman). */
  hostFlag: (host: string) => string[];
  /** Hint for an engine that does not answer. */
  unavailableHint: string;
  /** Hint for a missing CLI binary. */
  installHint: string;
  /** Extra environment for every CLI call (e.g. podman's CONTAINERS_CONF default). */
  cliEnv?: () => Record<string, string | undefined>;
}

/** Docker's states (moby `api/types/container/state.go`) plus podman's extra words. */
export const CONTAINER_STATES: Record<string, ObservedState> = {
  created: 'stopped',
  configured: 'stopped',
  initialized: 'stopped',
  exited: 'stopped',
  stopped: 'stopped',
  running: 'running',
  restarting: 'running',
  stopping: 'running',
  paused: 'suspended',
  dead: 'broken',
  unknown: 'broken',
  removing: 'absent',
};

export function mapState(dialect: ContainerDialect, status: string): ObservedState {
  return dialect.states[status.toLowerCase()] ?? 'broken';
}
