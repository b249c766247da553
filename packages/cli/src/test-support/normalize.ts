/** Makes a `--json` output stable for file snapshots: times, durations and temp paths vary. */
export function normalizeJson(text: string, project?: { dir: string }): unknown {
  const parsed: unknown = JSON.parse(text);
  const walk = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    if (typeof value === 'number' && (key === 'durationMs' || key === 'elapsedMs')) return '<ms>';
    if (typeof value === 'string' && (key === 'createdAt' || key === 'at')) return '<time>';
    if (typeof value === 'string') {
      // Test instances are named inst-1, inst-2, … in the order tests run.
      const named = value.replace(/\binst-\d+\b/g, 'inst-N');
      return project ? named.split(project.dir).join('<project>') : named;
    }
    return value;
  };
  return walk(parsed);
}

export function snapshotText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
