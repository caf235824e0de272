import { useEffect, useState, type ReactNode } from 'react';
import type { ApiClient } from '../api/client.ts';
import { ApiError, networkProblem, type Problem } from '../api/problem.ts';
import { Link } from '../app/Link.tsx';
import { navigate } from '../app/router.ts';
import { Field, formSecret, formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';

/** The server's rule (8 to 128 characters, not a common password); it has the last word (`weak_password`). */
export const PASSWORD_MIN = 8;

/** The new password of a form with a "Repeat password" field; refused with `passwords_differ` if they differ. */
export function confirmedPassword(data: FormData): string {
  const password = formSecret(data, 'password');
  if (password !== formSecret(data, 'confirm')) {
    throw new ApiError({
      type: 'about:blank',
      title: 'The passwords do not match.',
      status: 0,
      code: 'passwords_differ',
    });
  }
  return password;
}

/** Name, email and a new password twice: the fields of every form that creates an account. */
export function NewAccountFields() {
  return (
    <>
      <div className="field-row">
        <Field label="First name" name="firstName" autoComplete="given-name" required />
        <Field label="Last name" name="lastName" autoComplete="family-name" required />
      </div>
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <NewPasswordFields label="Password" />
    </>
  );
}

/** A new password and its repetition (`password`, `confirm`: read them with `confirmedPassword`). */
export function NewPasswordFields({ label }: { label: string }) {
  return (
    <>
      <Field
        label={label}
        name="password"
        type="password"
        autoComplete="new-password"
        minLength={PASSWORD_MIN}
        required
        hint={`At least ${PASSWORD_MIN} characters.`}
      />
      <Field label="Repeat password" name="confirm" type="password" autoComplete="new-password" required />
    </>
  );
}

export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <p className="brand">Canopy</p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function SignInPage({ api, next }: { api: ApiClient; next?: string }) {
  // After `mfa_required` the same form asks for a code; email and password stay filled in.
  const [codeKind, setCodeKind] = useState<'none' | 'totp' | 'recovery'>('none');
  const form = useSubmit(async (data) => {
    const totp = formText(data, 'totp').replace(/\s+/g, '');
    try {
      await api.sessions.signIn({
        email: formText(data, 'email'),
        password: formSecret(data, 'password'),
        ...(codeKind !== 'none' && totp ? { totp } : {}),
      });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'mfa_required' && codeKind === 'none') {
        setCodeKind('totp');
        return false;
      }
      throw error;
    }
    navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/maps');
    return true;
  });
  const asking = codeKind !== 'none';
  return (
    <AuthLayout title="Sign in">
      <form onSubmit={form.onSubmit}>
        <Field label="Email" name="email" type="email" autoComplete="username" required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required />
        {asking && (
          <div className="mfa-step">
            <p role="status">This account uses two-step sign-in.</p>
            {codeKind === 'totp' ? (
              <Field
                key="totp"
                label="Authenticator code"
                name="totp"
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                autoFocus
                hint="Six digits from your authenticator app."
              />
            ) : (
              <Field
                key="recovery"
                label="Recovery code"
                name="totp"
                autoComplete="off"
                required
                autoFocus
                hint="One of the recovery codes you saved; each works once."
              />
            )}
            <button
              type="button"
              className="link-button"
              onClick={() => setCodeKind(codeKind === 'totp' ? 'recovery' : 'totp')}
            >
              {codeKind === 'totp' ? 'Use a recovery code instead' : 'Use the authenticator app instead'}
            </button>
          </div>
        )}
        <ProblemAlert problem={form.problem} />
        <button type="submit" className="primary" disabled={form.pending}>
          {form.pending ? 'Signing in…' : asking ? 'Verify and sign in' : 'Sign in'}
        </button>
      </form>
      <p className="auth-links">
        <Link to={{ page: 'forgot-password' }}>Forgot your password?</Link> ·{' '}
        <Link to={{ page: 'sign-up' }}>Create an account</Link>
      </p>
    </AuthLayout>
  );
}

export function SignUpPage({ api }: { api: ApiClient }) {
  const form = useSubmit(async (data) => {
    const password = confirmedPassword(data);
    return api.accounts.create({
      email: formText(data, 'email'),
      password,
      firstName: formText(data, 'firstName'),
      lastName: formText(data, 'lastName'),
    });
  });
  if (form.result) {
    return (
      <AuthLayout title="Check your email">
        <p>
          We sent a link to <strong>{form.result.email}</strong>. Open it to verify your address, then sign
          in.
        </p>
        <p className="auth-links">
          <Link to={{ page: 'sign-in' }}>Go to sign in</Link>
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Create your account">
      <form onSubmit={form.onSubmit}>
        <NewAccountFields />
        <ProblemAlert problem={form.problem} />
        <button type="submit" className="primary" disabled={form.pending}>
          {form.pending ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p className="auth-links">
        Already have an account? <Link to={{ page: 'sign-in' }}>Sign in</Link>
      </p>
    </AuthLayout>
  );
}

/** One request per token even when React runs the effect twice (StrictMode in development): a token works once. */
const verifying = new Map<string, Promise<unknown>>();

export function VerifyPage({ api, token }: { api: ApiClient; token: string }) {
  const [state, setState] = useState<'pending' | 'done' | Problem>('pending');
  useEffect(() => {
    if (!token) {
      setState({ type: 'about:blank', title: 'This link has no token.', status: 0, code: 'missing_token' });
      return;
    }
    let live = true;
    let pending = verifying.get(token);
    if (!pending) {
      pending = api.accounts.verify(token);
      verifying.set(token, pending);
    }
    pending.then(
      () => live && setState('done'),
      (error: unknown) => live && setState(error instanceof ApiError ? error.problem : networkProblem(error)),
    );
    return () => {
      live = false;
    };
  }, [api, token]);
  return (
    <AuthLayout title="Verify your email">
      {state === 'pending' && <p role="status">Verifying…</p>}
      {state === 'done' && (
        <p role="status">
          Your email is verified. <Link to={{ page: 'sign-in' }}>Sign in</Link>
        </p>
      )}
      {typeof state === 'object' && <ProblemAlert problem={state} />}
    </AuthLayout>
  );
}

export function ForgotPasswordPage({ api }: { api: ApiClient }) {
  const form = useSubmit(async (data) => {
    await api.password.forgot(formText(data, 'email'));
    return true;
  });
  return (
    <AuthLayout title="Reset your password">
      {form.result ? (
        <p role="status">If an account uses that address, we have sent it a link to choose a new password.</p>
      ) : (
        <form onSubmit={form.onSubmit}>
          <Field label="Email" name="email" type="email" autoComplete="email" required />
          <ProblemAlert problem={form.problem} />
          <button type="submit" className="primary" disabled={form.pending}>
            Send reset link
          </button>
        </form>
      )}
      <p className="auth-links">
        <Link to={{ page: 'sign-in' }}>Back to sign in</Link>
      </p>
    </AuthLayout>
  );
}

export function ResetPasswordPage({ api, token }: { api: ApiClient; token: string }) {
  const form = useSubmit(async (data) => {
    const password = confirmedPassword(data);
    await api.password.reset(token, password);
    return true;
  });
  return (
    <AuthLayout title="Choose a new password">
      {!token && (
        <ProblemAlert
          problem={{
            type: 'about:blank',
            title: 'This link has no token.',
            status: 0,
            code: 'missing_token',
          }}
        />
      )}
      {form.result ? (
        <p role="status">
          Your password is changed and your other sessions are signed out.{' '}
          <Link to={{ page: 'sign-in' }}>Sign in</Link>
        </p>
      ) : (
        <form onSubmit={form.onSubmit}>
          <NewPasswordFields label="New password" />
          <ProblemAlert problem={form.problem} />
          <button type="submit" className="primary" disabled={form.pending || !token}>
            Change password
          </button>
        </form>
      )}
    </AuthLayout>
  );
}
