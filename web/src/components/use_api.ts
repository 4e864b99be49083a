// useApi: a GET that a component shows, reloaded on demand or every `refreshMs`.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, Params } from "../api";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(path: string | null, params: Params = {}, refreshMs = 0): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const generation = useRef(0);
  const key = JSON.stringify(params);
  const load = useCallback(() => {
    if (path === null) return;
    const mine = ++generation.current;
    setLoading(true);
    call<T>("GET", path, params)
      .then((result) => {
        if (mine !== generation.current) return;
        setData(result);
        setError(undefined);
      })
      .catch((failure: ApiError) => {
        if (mine === generation.current) setError(failure);
      })
      .finally(() => {
        if (mine === generation.current) setLoading(false);
      });
  }, [path, key]);
  useEffect(() => {
    setData(undefined);
    load();
    if (!refreshMs) return;
    const timer = setInterval(load, refreshMs);
    return () => clearInterval(timer);
  }, [load, refreshMs]);
  return { data, error, loading, reload: load };
}
