/** Human units on the command line: durations (`30s`, `5m`, `500ms`) and sizes (`512M`, `2G`). */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds; a bare number is seconds. Undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (DURATION_MS[(m[2] ?? 's').toLowerCase()] ?? 1000);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT])?(?:i?B)?$/i;
const SIZE_MIB: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/**
 * Parses a size to MiB (binary units: `512M`, `2G`, `2GiB`, `1.5g`). A bare number is taken in
 * `bareUnit`. Undefined when malformed.
 */
export function parseSizeMiB(text: string, bareUnit: 'M' | 'G'): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? bareUnit).toUpperCase();
  const mib = Number(m[1]) * (SIZE_MIB[unit] ?? 1);
  return Number.isFinite(mib) && mib > 0 ? mib : undefined;
}

/** `1234` → `1.2 s`, `85` → `85 ms`, `65000` → `1m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}
