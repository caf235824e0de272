import type { ReactNode } from 'react';
import type { ApiClient } from '../api/client.ts';
import { indexedDbCopies } from '../editor/collab/localCopies.ts';
import { ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { Link } from './Link.tsx';
import { navigate } from './router.ts';

export function AppLayout({
  children,
  current,
  api,
}: {
  children: ReactNode;
  current: 'maps' | 'settings' | 'other';
  /** With the client, the header offers "Sign out". */
  api?: ApiClient;
}) {
  return (
    <div className="app-layout">
      <header className="app-header">
        <Link to={{ page: 'maps' }} className="brand">
          Canopy
        </Link>
        <nav aria-label="Main">
          <ul>
            <li aria-current={current === 'maps' ? 'page' : undefined}>
              <Link to={{ page: 'maps' }}>Maps</Link>
            </li>
            <li>
              <Link to={{ page: 'demo', topics: 200 }}>Demo map</Link>
            </li>
            <li aria-current={current === 'settings' ? 'page' : undefined}>
              <Link to={{ page: 'settings' }}>Settings</Link>
            </li>
          </ul>
        </nav>
        {api && <SignOutButton api={api} />}
      </header>
      <main className="app-main">{children}</main>
    </div>
  );
}

/**
 * Ends this browser's session (`DELETE /sessions/current`), forgets the local copies of maps, and returns to the
 * sign-in page.
 */
export function SignOutButton({ api }: { api: ApiClient }) {
  const signOut = useSubmit(async () => {
    try {
      await api.sessions.deleteCurrent();
    } catch (error) {
      // Already signed out (expired or revoked elsewhere) is what the person wanted anyway.
      if (!(error instanceof Error && 'status' in error && error.status === 401)) throw error;
    }
    // The maps this browser kept for offline editing go with the session (a shared computer keeps none).
    await indexedDbCopies()
      .clear()
      .catch(() => undefined);
    navigate({ page: 'sign-in' });
    return true;
  });
  return (
    <form className="sign-out" onSubmit={signOut.onSubmit}>
      <button type="submit" disabled={signOut.pending}>
        Sign out
      </button>
      <ProblemAlert problem={signOut.problem} />
    </form>
  );
}
