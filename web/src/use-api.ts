import { useCallback, useEffect, useState } from "react";
import { getJson } from "./api";

/** Loads a GET endpoint; reloads when the path changes or `reload()` is called. */
export function useApi<T>(path: string | null): { data: T | null; error: Error | null; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    getJson<T>(path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: Error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
