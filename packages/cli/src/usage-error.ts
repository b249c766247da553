/** A mistake in how `vms` was called (unknown flag, missing argument, ambiguous name): exit 2. */
export class UsageError extends Error {
  readonly code = 'USAGE' as const;
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }

  static isInstance(value: unknown): value is UsageError {
    return value instanceof Error && (value as { code?: unknown }).code === 'USAGE';
  }
}
