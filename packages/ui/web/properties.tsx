/** The instance's properties as the backend reports them. */
import type { Properties as Props } from '@vms/core';
import { addresses, ports, resources } from './format.js';

export function Properties({ properties: p }: { properties: Props }) {
  const rows: Array<[string, string]> = [
    ['image', p.image ?? ''],
    ['os', p.os ?? ''],
    ['addresses', addresses(p)],
    ['ports', ports(p)],
    ['resources', resources(p)],
    ['ssh', p.ssh ? `${p.ssh.user}@${p.ssh.host}:${p.ssh.port}` : ''],
    ['created', p.createdAt ?? ''],
    [
      'labels',
      Object.entries(p.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    ],
  ];
  const extra = p.extra && Object.keys(p.extra).length ? JSON.stringify(p.extra, null, 1) : '';
  return (
    <table class="props" data-testid="properties">
      <tbody>
        {rows
          .filter(([, v]) => v)
          .map(([k, v]) => (
            <tr>
              <th>{k}</th>
              <td class="mono pre">{v}</td>
            </tr>
          ))}
        {extra ? (
          <tr>
            <th>extra</th>
            <td class="mono pre">{extra}</td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}
