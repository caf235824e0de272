import type { ApiClient } from '../api/client.ts';
import { Link } from '../app/Link.tsx';
import { formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { AuthLayout, confirmedPassword, NewAccountFields } from './AuthPages.tsx';

/**
 * The operator's one-time setup link (`/setup?token=`), printed by the server at its first start while no
 * operator exists: creates the operator (platform admin) account with `POST /setup/operator`.
 */
export function SetupPage({ api, token }: { api: ApiClient; token: string }) {
  const form = useSubmit(async (data) => {
    const password = confirmedPassword(data);
    return api.accounts.setupOperator(token, {
      email: formText(data, 'email'),
      password,
      firstName: formText(data, 'firstName'),
      lastName: formText(data, 'lastName'),
    });
  });
  if (form.result) {
    return (
      <AuthLayout title="Operator account created">
        <p role="status">
          <strong>{form.result.email}</strong> is the operator of this Canopy. The setup link no longer works.
        </p>
        <p className="auth-links">
          <Link to={{ page: 'sign-in' }}>Sign in</Link>
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Set up this Canopy">
      <p>Create the operator account: it manages licences, templates and the platform settings.</p>
      {!token && (
        <ProblemAlert
          problem={{
            type: 'about:blank',
            title: 'This link has no token. Use the link the server printed when it started.',
            status: 0,
            code: 'missing_token',
          }}
        />
      )}
      <form onSubmit={form.onSubmit}>
        <NewAccountFields />
        <ProblemAlert problem={form.problem} />
        <button type="submit" className="primary" disabled={form.pending || !token}>
          {form.pending ? 'Creating…' : 'Create operator account'}
        </button>
      </form>
    </AuthLayout>
  );
}
