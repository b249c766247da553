/** The instance's snapshots (taken with the Snapshot button). */
import { useEffect, useState } from 'preact/hooks';
import { getJson, instancePath, RequestFailed } from './api.js';

interface SnapshotInfo {
  name: string;
  createdAt?: string;
  sizeBytes?: number;
}

export function SnapshotList({ id }: { id: string }) {
  const [list, setList] = useState<SnapshotInfo[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    getJson<{ snapshots: SnapshotInfo[] }>(instancePath(id, 'snapshots')).then(
      (r) => setList(r.snapshots),
      (e: unknown) => setError(e instanceof RequestFailed ? e.error.message : String(e)),
    );
  }, [id]);
  if (error) return <p class="error">{error}</p>;
  if (!list) return <p class="muted">loading…</p>;
  if (list.length === 0) return <p class="empty">No snapshots.</p>;
  return (
    <table class="props" data-testid="snapshots">
      <tbody>
        {list.map((s) => (
          <tr>
            <th class="mono">{s.name}</th>
            <td>{s.createdAt ?? ''}</td>
            <td class="num">
              {s.sizeBytes !== undefined ? `${(s.sizeBytes / 1048576).toFixed(1)} MiB` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
