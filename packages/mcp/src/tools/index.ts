/** Every tool of the server, in the order clients list them. */
import type { Session } from '../session.js';
import type { Tool } from '../tool.js';
import { listBackends } from './backends.js';
import { exec } from './exec.js';
import { readFileTool, writeFileTool } from './files.js';
import {
  createInstance,
  deleteInstance,
  listInstances,
  startInstance,
  stopInstance,
} from './instances.js';
import { logs } from './logs.js';
import { snapshotCreate, snapshotList, snapshotRestore } from './snapshots.js';

export const TOOLS: readonly Tool<Session>[] = [
  listBackends,
  listInstances,
  createInstance,
  exec,
  writeFileTool,
  readFileTool,
  logs,
  startInstance,
  stopInstance,
  deleteInstance,
  snapshotCreate,
  snapshotRestore,
  snapshotList,
];
