import { useEffect, useReducer } from 'preact/hooks';
import { liveStore } from '../live-store.js';

/** Re-renders the component whenever the live store changes (at most once a frame). */
export function useLive(): typeof liveStore {
  const [, bump] = useReducer((n: number, _: number) => n + 1, 0);
  useEffect(() => liveStore.subscribe(() => bump(0)), []);
  return liveStore;
}

/** Re-renders every `ms` (relative times such as "5 seconds ago"). */
export function useTick(ms: number): void {
  const [, bump] = useReducer((n: number, _: number) => n + 1, 0);
  useEffect(() => {
    const t = setInterval(() => bump(0), ms);
    return () => clearInterval(t);
  }, [ms]);
}
