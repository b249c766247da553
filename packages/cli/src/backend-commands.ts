/**
 * Everything a command that touches backends needs, in one module (one file of the build): the
 * discovery of backends, the registry, and the commands themselves. `vms --version`, `vms help`
 * and completion never load it, nor `@vms/core`.
 */
import * as backends from './cmd-backends.js';
import * as demo from './cmd-demo.js';
import * as events from './cmd-events.js';
import * as exec from './cmd-exec.js';
import * as inspect from './cmd-inspect.js';
import * as lifecycle from './cmd-lifecycle.js';
import * as list from './cmd-list.js';
import * as logs from './cmd-logs.js';
import * as mcp from './cmd-mcp.js';
import * as prune from './cmd-prune.js';
import * as ui from './cmd-ui.js';
import type { CommandModule } from './context.js';
import { type DiscoverySettings, discoverBackends } from './discovery.js';
import { Registry } from './registry.js';

export const BACKEND_COMMANDS: Readonly<Record<string, CommandModule>> = {
  backends,
  create: lifecycle,
  start: lifecycle,
  stop: lifecycle,
  suspend: lifecycle,
  resume: lifecycle,
  delete: lifecycle,
  exec,
  shell: exec,
  list,
  inspect,
  logs,
  prune,
  events,
  demo,
  mcp,
  ui,
};

/** The backends of this invocation: discovered now (no imports), loaded on first use. */
export function createRegistry(settings: DiscoverySettings): Registry {
  return new Registry(discoverBackends(settings));
}
