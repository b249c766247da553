/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/**
 * `@vms/core/spec`: the versioned contract only, types and a few constants, with no runtime
 * dependencies. Compile a backend against it; run it with `@vms/core`.
 */
export {
  type BackendOptions,
  type BackendOptionsInput,
  type BackendSchema,
  type BackendV1,
  CAPABILITY_METHODS,
  CAPABILITY_NAMES,
  type Capabilities,
  type Capability,
  type CapabilityNarrowing,
  type DetectResult,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  type EngineEndpoint,
  type EngineKind,
  type EngineRequest,
  type ExecIo,
  type GuestExit,
  type InstancesListener,
  isBackendV1,
  type ListContext,
  type ListedInstance,
  type LogsRequest,
  type Observation,
  type ObservedState,
  OPTION_CAPABILITIES,
  type OpContext,
  type OpName,
  type PortMapping,
  type ProgressDetail,
  type ProgressReporter,
  type Properties,
  type SnapshotInfo,
  SPECIFICATION_VERSION,
  type SpecificationVersion,
  type StopRequest,
} from './v1.js';
