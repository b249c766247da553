import { InvalidTransitionError, type VmsErrorOptions } from '@vms/core';

/** `acquire` (or `ready`) on a pool that is closed or closing. Code INVALID_TRANSITION. */
export class PoolClosedError extends InvalidTransitionError {
  readonly pool: string;
  constructor(pool: string, action = 'acquire', options: VmsErrorOptions = {}) {
    super(action, 'closed', { hint: 'create a new pool', ...options });
    this.name = 'PoolClosedError';
    this.message = `pool ${pool} is closed: ${action} is not possible`;
    this.pool = pool;
  }
}
