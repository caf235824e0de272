import { useCallback, useEffect, useState } from 'react';
import { ApiError, networkProblem, type Problem } from '../api/problem.ts';

export type QueryState<T> =
  { status: 'loading' } | { status: 'error'; problem: Problem } | { status: 'ready'; data: T };

/** Loads once per `key`; `reload` fetches again (after a create or delete). */
export function useApiQuery<T>(key: string, load: () => Promise<T>): [QueryState<T>, () => void] {
  const [state, setState] = useState<QueryState<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    load().then(
      (data) => live && setState({ status: 'ready', data }),
      (error: unknown) =>
        live &&
        setState({
          status: 'error',
          problem: error instanceof ApiError ? error.problem : networkProblem(error),
        }),
    );
    return () => {
      live = false;
    };
    // `load` is recreated on every render; `key` names what it loads.
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return [state, reload];
}
