/**
 * A shell in the instance: xterm.js (loaded on first use, from this package's own files) over
 * a WebSocket to the server, which runs it through core's exec with a TTY.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { instancePath } from './api.js';

export function TerminalView({ id, running }: { id: string; running: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting…');
  const [session, setSession] = useState(0);
  useEffect(() => {
    if (!running || !host.current) return;
    let disposed = false;
    let cleanup = () => {};
    void import('@xterm/xterm').then(({ Terminal }) => {
      const el = host.current;
      if (disposed || !el) return;
      const term = new Terminal({
        cols: 100,
        rows: 24,
        cursorBlink: true,
        convertEol: false,
        fontSize: 13,
        fontFamily: 'DejaVu Sans Mono, monospace',
        theme: { background: '#10151c' },
      });
      term.open(el);
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(
        `${proto}//${location.host}${instancePath(id, `terminal?cols=${term.cols}&rows=${term.rows}`)}`,
      );
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        setStatus('connected');
        term.focus();
      };
      ws.onmessage = (e) => {
        if (typeof e.data === 'string') {
          const m = JSON.parse(e.data) as { type: string; exitCode?: number; message?: string };
          setStatus(
            m.type === 'exit' ? `exited with code ${m.exitCode}` : `failed: ${m.message ?? ''}`,
          );
        } else term.write(new Uint8Array(e.data as ArrayBuffer));
      };
      ws.onclose = () => setStatus((s) => (s === 'connected' ? 'closed' : s));
      const input = term.onData((d) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(d);
      });
      cleanup = () => {
        input.dispose();
        ws.close();
        term.dispose();
      };
    });
    return () => {
      disposed = true;
      cleanup();
    };
  }, [id, running, session]);
  if (!running) return <p class="empty">The terminal needs a running instance.</p>;
  return (
    <div class="terminal-wrap">
      <div class="muted" data-testid="terminal-status">
        terminal: {status}{' '}
        {status !== 'connected' && status !== 'connecting…' ? (
          <button
            type="button"
            class="small"
            onClick={() => {
              setStatus('connecting…');
              setSession((n) => n + 1);
            }}
          >
            new session
          </button>
        ) : null}
      </div>
      <div class="terminal" ref={host} data-testid="terminal" />
    </div>
  );
}
