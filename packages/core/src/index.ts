/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say

/**
 * `@vms/core`, in three parts (listed by name: a new export is a reviewed change, see
 * `src/exports.test.ts`):
 *
 * 1. the user runtime: `createInstance`, `openInstance`, `Instance`, states, events, errors;
 * 2. the contract (`vms-backend-v1`), also importable alone from `@vms/core/spec`;
 * 3. the backend author's kit: option schemas, `defineBackend`, the process runner, waits,
 *    readiness, the state store, locks, tool detection.
 *
 * Test helpers (conformance suite, mock backend, fakes) are in `@vms/core/testing`.
 */

export { closestMatch } from './closest.js';
// ---- 3. the backend author's kit ------------------------------------------------------------
export { backendProblems, defineBackend } from './define-backend.js';
// ---- 1. user runtime ------------------------------------------------------------------------
export {
  AbortedError,
  AlreadyExistsError,
  BackendUnavailableError,
  type CapabilityErrorOptions,
  CapabilityUnsupportedError,
  CommandFailedError,
  type ErrorCode,
  type ErrorOfCode,
  InvalidOptionsError,
  InvalidTransitionError,
  type IssuePath,
  LockedError,
  NotFoundError,
  OperationFailedError,
  PolicyRefusedError,
  ProtocolError,
  TimeoutError,
  ToolNotFoundError,
  tail,
  toVmsError,
  VmsError,
  type VmsErrorOptions,
} from './errors.js';
export {
  type InstanceEventName,
  type InstanceEvents,
  type ProgressDetail,
  TypedEmitter,
} from './events.js';
export { randomHex, uniqueToken } from './ids.js';
export {
  createInstance,
  DEFAULT_TIMEOUTS,
  type DeleteResult,
  type EngineEndpointOptions,
  type ExecOptions,
  type ExecResult,
  Instance,
  type InstanceInit,
  type InstanceSettings,
  type LogsOptions,
  type OpOptions,
  type OptionsSource,
  openInstance,
  type RefreshResult,
  type StopOptions,
  type StopResult,
  stateFromObservation,
} from './instance.js';
export {
  acquireLock,
  isStaleOwner,
  type LockHandle,
  type LockOptions,
  type LockOwner,
  pidExists,
  processStartTime,
  processState,
  withLock,
} from './lock.js';
export {
  BACKEND_NAME_PATTERN,
  type CommonInstanceOptions,
  commonInstanceOptions,
  INSTANCE_NAME_PATTERN,
  lazySchema,
  type Mount,
  mountSchema,
  type PortForward,
  parseInstanceOptions,
  parseOptions,
  parsePortSpec,
  portForwardSchema,
  refuseUserData,
  type UserData,
  userDataSchema,
  validateInstanceName,
  zodIssues,
} from './options.js';
export { type JsonSchema, optionsJsonSchema, propertiesAt } from './options-json-schema.js';
export {
  type BannerReadinessOptions,
  type ExecReadinessOptions,
  type ReadinessContext,
  type ReadinessStrategy,
  type ReadinessTarget,
  readiness,
} from './readiness.js';
export {
  type InstanceRecord,
  instanceRecordPath,
  listInstanceRecords,
  readInstanceRecord,
  removeInstanceRecord,
  writeInstanceRecord,
} from './records.js';
export {
  createRunner,
  defaultRunner,
  formatArgv,
  type ProcessRunner,
  processRunnerSchema,
  type RunnerSettings,
  type RunOptions,
  type RunResult,
  redactArgv,
  redactText,
  type SpawnExit,
  type SpawnedProcess,
  type SpawnOptions,
  shellQuote,
} from './runner.js';
// ---- 2. the contract ------------------------------------------------------------------------
export * from './spec/index.js';
export {
  ACTIONS,
  type Action,
  type FailureTarget,
  type InstanceState,
  isLegal,
  isStable,
  legalActions,
  renderStateTable,
  STATES,
  type StateName,
  TRANSITIONS,
  type Transition,
  transition,
} from './states.js';
export { StateStore, type StateStoreOptions, vmsHome, writeFileAtomic } from './store.js';
export { type DetectToolOptions, detectTool, unavailableReason } from './tool-detect.js';
export {
  abortReasonToError,
  type BackoffOptions,
  backoffDelays,
  backoffOptionsSchema,
  type DeadlineOptions,
  type DeadlineSignal,
  deadlineSignal,
  effectiveDeadline,
  type FatalError,
  fatal,
  isTimeoutReason,
  type ProbeAttempt,
  raceAbort,
  sleep,
  type WaitForOptions,
  waitFor,
} from './wait.js';
