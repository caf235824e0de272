import type { ApiClient } from '../api/client.ts';
import { AppLayout } from '../app/AppLayout.tsx';
import { Link } from '../app/Link.tsx';
import { navigate } from '../app/router.ts';
import { Field, formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { useApiQuery } from '../ui/useApiQuery.ts';
import { SignInPrompt } from './SignInPrompt.tsx';

export function MapsPage({ api }: { api: ApiClient }) {
  const [maps, reload] = useApiQuery('maps', () => api.maps.list());
  const create = useSubmit(async (data) => {
    const map = await api.maps.create(formText(data, 'title') || 'Untitled map');
    navigate({ page: 'editor', mapId: map.id });
    return map;
  });
  const remove = useSubmit(async (data) => {
    await api.maps.remove(formText(data, 'id'));
    reload();
    return true;
  });
  return (
    <AppLayout current="maps">
      <h1>Your maps</h1>
      {maps.status === 'error' && maps.problem.status === 401 ? (
        <SignInPrompt next="/maps" />
      ) : (
        <>
          <form className="inline-form" onSubmit={create.onSubmit}>
            <Field label="New map title" name="title" />
            <button type="submit" className="primary" disabled={create.pending}>
              Create map
            </button>
          </form>
          <ProblemAlert problem={create.problem ?? remove.problem} />
          {maps.status === 'loading' && <p role="status">Loading your maps…</p>}
          {maps.status === 'error' && <ProblemAlert problem={maps.problem} />}
          {maps.status === 'ready' && maps.data.length === 0 && <p>No maps yet. Create one above.</p>}
          {maps.status === 'ready' && maps.data.length > 0 && (
            <ul className="map-list">
              {maps.data.map((m) => (
                <li key={m.id}>
                  <Link to={{ page: 'editor', mapId: m.id }}>{m.title}</Link>
                  {m.updatedAt && (
                    <span className="muted"> · edited {new Date(m.updatedAt).toLocaleString()}</span>
                  )}
                  <form onSubmit={remove.onSubmit}>
                    <input type="hidden" name="id" value={m.id} />
                    <button type="submit" className="danger" aria-label={`Delete ${m.title}`}>
                      Delete
                    </button>
                  </form>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <p className="muted">
        No server yet? <Link to={{ page: 'demo', topics: 200 }}>Open a demo map</Link> (kept in this tab
        only).
      </p>
    </AppLayout>
  );
}
