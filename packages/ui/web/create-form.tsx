/** Create an instance: a backend, a name, and a form generated from the backend's options schema. */
import { useEffect, useState } from 'preact/hooks';
import type { BackendView } from '../src/protocol.js';
import { type ApiError, getJson, postJson, RequestFailed } from './api.js';
import { ErrorBox } from './error-box.js';
import { type Field, type FormValues, fieldsOf, optionsFrom } from './schema-form.js';

interface Props {
  backends: BackendView[];
  onClose: () => void;
  onCreated: (id: string) => void;
}

function FieldInput({
  field,
  value,
  onInput,
}: {
  field: Field;
  value: string | boolean | undefined;
  onInput: (v: string | boolean) => void;
}) {
  const name = `opt-${field.key}`;
  const id = name;
  switch (field.kind) {
    case 'boolean':
      return (
        <input
          type="checkbox"
          id={id}
          name={name}
          checked={typeof value === 'boolean' ? value : (field.defaultChecked ?? false)}
          onChange={(e) => onInput(e.currentTarget.checked)}
        />
      );
    case 'enum':
      return (
        <select
          id={id}
          name={name}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onInput(e.currentTarget.value)}
        >
          <option value="">{field.placeholder ? `default (${field.placeholder})` : '—'}</option>
          {(field.choices ?? []).map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
      );
    case 'list':
    case 'keyvalue':
    case 'json':
      return (
        <textarea
          id={id}
          name={name}
          rows={field.kind === 'json' ? 3 : 2}
          placeholder={
            field.kind === 'list'
              ? 'one per line'
              : field.kind === 'keyvalue'
                ? 'KEY=VALUE, one per line'
                : (field.placeholder ?? 'JSON')
          }
          value={typeof value === 'string' ? value : ''}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      );
    case 'text':
      return (
        <input
          type="text"
          id={id}
          name={name}
          placeholder={field.placeholder ?? ''}
          value={typeof value === 'string' ? value : ''}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      );
    default:
      return (
        <input
          type="number"
          id={id}
          name={name}
          step={field.kind === 'integer' ? 1 : 'any'}
          placeholder={field.placeholder ?? ''}
          value={typeof value === 'string' ? value : ''}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      );
  }
}

export function CreateForm({ backends, onClose, onCreated }: Props) {
  const [backend, setBackend] = useState(backends[0]?.name ?? '');
  const [name, setName] = useState('');
  const [start, setStart] = useState(true);
  const [fields, setFields] = useState<Field[] | undefined>();
  const [values, setValues] = useState<FormValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<ApiError | undefined>();
  const [sending, setSending] = useState(false);
  const [showAll, setShowAll] = useState(false);
  useEffect(() => {
    setFields(undefined);
    setValues({});
    getJson<{ schema: unknown }>(`/api/backends/${encodeURIComponent(backend)}/schema`).then(
      (r) => setFields(fieldsOf(r.schema)),
      () => setFields([]),
    );
  }, [backend]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const { options, errors: bad } = optionsFrom(fields ?? [], values);
    setErrors(bad);
    setFailure(undefined);
    if (Object.keys(bad).length) return;
    setSending(true);
    try {
      const r = await postJson<{ id: string }>('/api/instances', { backend, name, options, start });
      onCreated(r.id);
    } catch (error) {
      const f =
        error instanceof RequestFailed ? error.error : { code: 'NETWORK', message: String(error) };
      setFailure(f);
      const byField: Record<string, string> = {};
      for (const i of f.issues ?? []) byField[i.path.split('.')[0] ?? i.path] = i.message;
      setErrors(byField);
    } finally {
      setSending(false);
    }
  };
  const common = new Set([
    'image',
    'cpus',
    'memoryMiB',
    'diskGiB',
    'ports',
    'env',
    'kernel',
    'disk',
    'initrd',
  ]);
  const shown = (fields ?? []).filter((f) => showAll || f.required || common.has(f.key));
  return (
    <div class="modal" role="dialog" aria-label="New instance">
      <form class="panel create" data-testid="create-form" onSubmit={(e) => void submit(e)}>
        <h2>New instance</h2>
        <label>
          <span>backend</span>
          <select
            name="backend"
            value={backend}
            onChange={(e) => setBackend(e.currentTarget.value)}
          >
            {backends.map((b) => (
              <option value={b.name}>{b.name}</option>
            ))}
          </select>
        </label>
        <label class={errors.name ? 'bad' : ''}>
          <span>name *</span>
          <input
            name="name"
            required
            pattern="[a-zA-Z0-9][a-zA-Z0-9_.\-]{0,62}"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          {errors.name ? <em>{errors.name}</em> : null}
        </label>
        {fields === undefined ? <p class="muted">loading options…</p> : null}
        {shown.map((f) => (
          <div class={errors[f.key] ? 'field bad' : 'field'} data-field={f.key}>
            <label for={`opt-${f.key}`}>
              {f.key}
              {f.required ? ' *' : ''}
            </label>
            <FieldInput
              field={f}
              value={values[f.key]}
              onInput={(v) => setValues({ ...values, [f.key]: v })}
            />
            {errors[f.key] ? (
              <em>{errors[f.key]}</em>
            ) : f.description ? (
              <small>{f.description}</small>
            ) : null}
          </div>
        ))}
        {fields && shown.length < fields.length ? (
          <button type="button" class="link" onClick={() => setShowAll(true)}>
            all {fields.length} options…
          </button>
        ) : null}
        <label class="inline">
          <input
            type="checkbox"
            name="start"
            checked={start}
            onChange={(e) => setStart(e.currentTarget.checked)}
          />{' '}
          start it after creating it
        </label>
        <ErrorBox error={failure} testId="create-error" />
        <div class="buttons">
          <button type="submit" class="primary" disabled={sending || !name} data-action="create">
            {sending ? 'Creating…' : 'Create'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
