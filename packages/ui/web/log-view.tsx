/** The instance's logs, following new output (server-sent events), scrolled to the end unless the reader scrolled up. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { instancePath } from './api.js';

const MAX_CHARS = 400_000;

export function LogView({ id }: { id: string }) {
  const [text, setText] = useState('');
  const [status, setStatus] = useState('connecting…');
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    setText('');
    const source = new EventSource(instancePath(id, 'logs?tail=200'));
    source.addEventListener('open', () => setStatus('following'));
    source.addEventListener('data', (e) => {
      const { text: chunk } = JSON.parse((e as MessageEvent<string>).data) as { text: string };
      setText((t) => (t + chunk).slice(-MAX_CHARS));
    });
    source.addEventListener('failure', (e) => {
      const err = JSON.parse((e as MessageEvent<string>).data) as { message: string };
      setStatus(`failed: ${err.message}`);
      source.close();
    });
    source.addEventListener('end', () => {
      setStatus('ended');
      source.close();
    });
    return () => source.close();
  }, [id]);
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <div class="logs">
      <div class="muted" data-testid="log-status">
        logs: {status}
      </div>
      <pre
        ref={box}
        class="log"
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {text}
      </pre>
    </div>
  );
}
