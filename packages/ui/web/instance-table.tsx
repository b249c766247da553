/** Every instance: state, id, image, addresses, ports, resources, and how long it has been so. */
import type { InstanceView } from '../src/protocol.js';
import { addresses, duration, ports, resources, stateClass } from './format.js';

interface Props {
  instances: InstanceView[];
  selected: string | undefined;
  onSelect: (id: string) => void;
  now: number;
}

export function InstanceTable({ instances, selected, onSelect, now }: Props) {
  if (instances.length === 0)
    return <p class="empty">No instances yet. Create one with “New instance”.</p>;
  return (
    <table class="instances" data-testid="instances">
      <thead>
        <tr>
          <th>state</th>
          <th>instance</th>
          <th>image</th>
          <th>address</th>
          <th>ports</th>
          <th>resources</th>
          <th>for</th>
        </tr>
      </thead>
      <tbody>
        {instances.map((i) => (
          <tr
            key={i.id}
            data-id={i.id}
            data-state={i.state}
            class={`${i.id === selected ? 'selected' : ''} ${i.state === 'deleted' ? 'gone' : ''}`}
            onClick={() => onSelect(i.id)}
          >
            <td>
              <span class={`badge ${stateClass(i.state)}`} data-testid="state">
                {i.state}
              </span>
              {i.busy ? <span class="busy">{i.busy.step ?? `${i.busy.action}…`}</span> : null}
            </td>
            <td class="id">
              <span class="backend">{i.backend}:</span>
              {i.name}
            </td>
            <td class="mono">{i.properties.image ?? ''}</td>
            <td class="mono">{addresses(i.properties)}</td>
            <td class="mono">{ports(i.properties)}</td>
            <td>{resources(i.properties)}</td>
            <td class="num">{duration(Math.max(0, now - Date.parse(i.since)))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
