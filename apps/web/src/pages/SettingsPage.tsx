import type { ApiClient } from '../api/client.ts';
import { AppLayout } from '../app/AppLayout.tsx';
import { ProblemAlert } from '../ui/forms.tsx';
import { MfaSection } from './MfaSection.tsx';
import { useApiQuery } from '../ui/useApiQuery.ts';
import { SessionsSection } from './SessionsSection.tsx';
import { SignInPrompt } from './SignInPrompt.tsx';

export function SettingsPage({ api }: { api: ApiClient }) {
  const [me, reloadMe] = useApiQuery('me', () => api.me.get());

  return (
    <AppLayout current="settings" api={api}>
      <h1>Settings</h1>
      {me.status === 'loading' && <p role="status">Loading your account…</p>}
      {me.status === 'error' &&
        (me.problem.status === 401 ? (
          <SignInPrompt next="/settings" />
        ) : (
          <ProblemAlert problem={me.problem} />
        ))}
      {me.status === 'ready' && (
        <>
          <section aria-labelledby="account-heading">
            <h2 id="account-heading">Account</h2>
            <dl className="facts">
              <dt>Name</dt>
              <dd>
                {me.data.firstName} {me.data.lastName}
              </dd>
              <dt>Email</dt>
              <dd>
                {me.data.email} {me.data.emailVerified ? '(verified)' : '(not verified yet)'}
              </dd>
            </dl>
          </section>
          <MfaSection api={api} enabled={Boolean(me.data.mfaEnabled)} onChanged={reloadMe} />
          <SessionsSection api={api} />
        </>
      )}
    </AppLayout>
  );
}
