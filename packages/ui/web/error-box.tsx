/** A failed request as the page shows it: the error code, the message and core's hint. */
import type { ApiError } from './api.js';

export function ErrorBox({ error, testId }: { error: ApiError | undefined; testId: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert" data-testid={testId}>
      <strong>{error.code}</strong> {error.message}
      {error.hint ? <div class="hint">hint: {error.hint}</div> : null}
    </div>
  );
}
