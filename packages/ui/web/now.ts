import { useEffect, useState } from 'preact/hooks';

/** The server's clock, ticking every `ms` (durations of the current state grow live). */
export function useNow(offsetMs: number, ms = 1000): number {
  const [now, setNow] = useState(() => Date.now() + offsetMs);
  useEffect(() => {
    setNow(Date.now() + offsetMs);
    const t = setInterval(() => setNow(Date.now() + offsetMs), ms);
    return () => clearInterval(t);
  }, [offsetMs, ms]);
  return now;
}
