/** Backend names as users type them (`docker` in `docker:web`, `--backend docker`). */
import { BACKEND_NAME_PATTERN } from '@vms/core';
import { UsageError } from './usage-error.js';

/** A backend name is letters, digits, "-" and "_" (it names a package and a directory). */
export function checkBackendName(backend: string, typed = backend): void {
  if (BACKEND_NAME_PATTERN.test(backend)) return;
  throw new UsageError(
    `invalid backend name ${JSON.stringify(backend)}${typed === backend ? '' : ` in ${JSON.stringify(typed)}`}`,
    'a backend name is letters, digits, "-" and "_" (see: vms backends); write BACKEND:NAME, e.g. docker:web',
  );
}
