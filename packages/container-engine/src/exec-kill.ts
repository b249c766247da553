/**
 * Ending an exec'd process inside the container. The engine API has no exec-kill call and killing
 * the client (`docker exec`, the hijacked socket) leaves the process running in the container.
 * Every exec carries a random marker in its environment (VMS_EXEC_ID=<marker>, inherited by its
 * children); a second exec, as root, kills every process whose environment holds the marker.
 */
import type { Engine } from './engine.js';

/** Finds processes by their environment marker and SIGKILLs them (needs sh, tr and grep). */
export const KILL_SCRIPT = [
  'm="VMS_EXEC_ID=$1"; n=0',
  'for d in /proc/[0-9]*; do',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  '  if tr "\\000" "\\n" < "$d/environ" 2>/dev/null | grep -qx "$m"; then kill -9 "${d#/proc/}" 2>/dev/null && n=$((n+1)); fi',
  'done',
  'echo "$n"',
].join('\n');

/**
 * Kills the marked processes; when none is found yet (the engine may still be starting an exec
 * whose client was just killed), looks once more shortly after.
 */
export async function killExecInside(
  engine: Engine,
  container: string,
  marker: string,
  debug: (message: string, data?: Record<string, unknown>) => void = () => {},
): Promise<number | undefined> {
  const first = await killOnce(engine, container, marker, debug);
  if (first !== 0) return first;
  await new Promise((r) => setTimeout(r, 300));
  return killOnce(engine, container, marker, debug);
}

async function killOnce(
  engine: Engine,
  container: string,
  marker: string,
  debug: (message: string, data?: Record<string, unknown>) => void = () => {},
): Promise<number | undefined> {
  let out = '';
  try {
    const code = await engine.exec(
      container,
      {
        argv: ['sh', '-c', KILL_SCRIPT, 'vms-exec-kill', marker],
        env: {},
        user: '0',
        tty: false,
        onStdout: (c) => {
          out += c.toString('utf8');
        },
        onStderr: () => {},
      },
      { signal: AbortSignal.timeout(20_000), deadline: Date.now() + 20_000 },
    );
    const killed = Number.parseInt(out.trim(), 10);
    debug('killed exec inside the container', { marker, code, killed });
    return Number.isNaN(killed) ? undefined : killed;
  } catch (error) {
    // The container may be gone or have no shell: nothing more can be done from here.
    debug('could not kill the exec inside the container', { marker, error: String(error) });
    return undefined;
  }
}
