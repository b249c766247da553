/**
 * The conformance suite every backend runs (keyv's test-suite idea, unstorage's honest skips):
 *
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest';
 * import { runConformanceSuite } from '@vms/core/testing';
 * runConformanceSuite({ describe, it, expect, beforeAll, afterAll }, {
 *   name: 'docker',
 *   backend: () => createDocker(),
 *   options: () => ({ image: 'vms-test/busybox:latest' }),
 *   observe: { state: (name) => dockerState(name) },
 * });
 * ```
 *
 * Groups are chosen when the suite registers, from the backend's capabilities (narrowed by its
 * driver for the subject's options) and the subject's `skip` reasons: a group that does not apply
 * is reported as skipped, with the reason in its name, never as passed. Every transition is
 * checked twice: by `inspect()` and by the subject's `observe` port, which never asks the driver.
 */
import type * as z4 from 'zod/v4/core';
import { contractGroups } from './contract.js';
import { execGroups } from './exec.js';
import { extraGroups } from './extras.js';
import { createSuite } from './harness.js';
import { lifecycleGroups } from './lifecycle.js';
import { suspendGroups } from './suspend.js';
import type { ConformanceSubject, TestApi } from './types.js';

export { delegateBackend, delegateDriver } from './delegate.js';
export type {
  ConformanceSubject,
  DescribeRegistrar,
  SkippableGroup,
  TestApi,
  TestRegistrar,
  WorldObserver,
  WorldState,
} from './types.js';

/** Registers the suite for `subject` with the runner's test functions. */
export function runConformanceSuite<S extends z4.$ZodType>(
  t: TestApi,
  subject: ConformanceSubject<S>,
): void {
  t.describe(`${subject.name}: vms-backend-v1 conformance`, () => {
    const suite = createSuite(t, subject);
    contractGroups(suite);
    lifecycleGroups(suite);
    execGroups(suite);
    suspendGroups(suite);
    extraGroups(suite);
  });
}
