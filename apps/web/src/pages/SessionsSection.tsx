import type { ApiClient } from '../api/client.ts';
import { formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { useApiQuery } from '../ui/useApiQuery.ts';

/** The caller's live sessions, each revocable (`GET /sessions`, `DELETE /sessions/{id}`). */
export function SessionsSection({ api }: { api: ApiClient }) {
  const [sessions, reload] = useApiQuery('sessions', () => api.sessions.list());
  const revoke = useSubmit(async (data) => {
    await api.sessions.revoke(formText(data, 'id'));
    reload();
    return true;
  });
  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Where you are signed in</h2>
      {sessions.status === 'loading' && <p role="status">Loading sessions…</p>}
      {sessions.status === 'error' && <ProblemAlert problem={sessions.problem} />}
      <ProblemAlert problem={revoke.problem} />
      {sessions.status === 'ready' && (
        <ul className="map-list">
          {sessions.data.map((s) => (
            <li key={s.id}>
              <span>
                {s.current ? <strong>This browser</strong> : `Signed in with ${s.method}`} · last seen{' '}
                {new Date(s.lastSeenAt).toLocaleString()}
              </span>
              {!s.current && (
                <form onSubmit={revoke.onSubmit}>
                  <input type="hidden" name="id" value={s.id} />
                  <button type="submit" className="danger">
                    Sign out there
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
