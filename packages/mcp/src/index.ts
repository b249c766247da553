/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/** `@vms/mcp`: an MCP server that gives agents containers and VMs as sandboxes, under a policy. */
export { type HttpHandle, type HttpOptions, serveHttp } from './http.js';
export {
  globMatch,
  loadPolicy,
  normalizeImage,
  type Policy,
  type PolicyInput,
  parsePolicy,
  policySchema,
  type Template,
  type WarmPoolPolicy,
} from './policy.js';
export {
  type ConnectedSession,
  createVmsMcpServer,
  VmsMcpServer,
  type VmsMcpServerOptions,
} from './server.js';
export {
  ALIAS_LABEL,
  listSessions,
  SESSION_LABEL,
  type SessionRecord,
  type SessionStatus,
  sessionOf,
  sessionPrefix,
} from './sessions.js';
export { TOOLS } from './tools/index.js';
