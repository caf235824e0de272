import { useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { TotpEnrollment } from '../api/types.ts';
import { AppLayout } from '../app/AppLayout.tsx';
import { navigate } from '../app/router.ts';
import { Field, formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { useApiQuery } from '../ui/useApiQuery.ts';
import { SessionsSection } from './SessionsSection.tsx';
import { SignInPrompt } from './SignInPrompt.tsx';

export function SettingsPage({ api }: { api: ApiClient }) {
  const [me] = useApiQuery('me', () => api.me.get());
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const signOut = useSubmit(async () => {
    await api.sessions.deleteCurrent();
    navigate({ page: 'sign-in' });
    return true;
  });
  const startMfa = useSubmit(async () => {
    const e = await api.me.enrollTotp();
    setEnrollment(e);
    return e;
  });
  const confirmMfa = useSubmit(async (data) => api.me.confirmTotp(formText(data, 'code')));

  return (
    <AppLayout current="settings">
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
          <section aria-labelledby="mfa-heading">
            <h2 id="mfa-heading">Two-step sign-in</h2>
            {me.data.mfaEnabled && !enrollment && <p>Two-step sign-in is on.</p>}
            {!me.data.mfaEnabled && !enrollment && (
              <form onSubmit={startMfa.onSubmit}>
                <p>Protect your account with codes from an authenticator app.</p>
                <button type="submit" disabled={startMfa.pending}>
                  Set up an authenticator app
                </button>
              </form>
            )}
            <ProblemAlert problem={startMfa.problem} />
            {enrollment && !confirmMfa.result && (
              <form onSubmit={confirmMfa.onSubmit}>
                <p>
                  Add this key to your authenticator app: <code className="secret">{enrollment.secret}</code>
                </p>
                <Field
                  label="Code from the app"
                  name="code"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  required
                />
                <ProblemAlert problem={confirmMfa.problem} />
                <button type="submit" className="primary" disabled={confirmMfa.pending}>
                  Turn on
                </button>
              </form>
            )}
            {confirmMfa.result && (
              <div role="status">
                <p>Two-step sign-in is on. Keep these recovery codes somewhere safe; each works once:</p>
                <ul className="recovery-codes">
                  {confirmMfa.result.recoveryCodes.map((c) => (
                    <li key={c}>
                      <code>{c}</code>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </section>
          <SessionsSection api={api} />
        </>
      )}
      <section aria-labelledby="session-heading">
        <h2 id="session-heading">Session</h2>
        <form onSubmit={signOut.onSubmit}>
          <button type="submit" disabled={signOut.pending}>
            Sign out
          </button>
        </form>
        <ProblemAlert problem={signOut.problem} />
      </section>
    </AppLayout>
  );
}
