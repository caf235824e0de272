import { useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import { ApiError } from '../api/problem.ts';
import type { TotpEnrollment } from '../api/types.ts';
import { Field, formSecret, formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { OtpauthQrCode } from './OtpauthQrCode.tsx';

type Step =
  | { kind: 'idle' }
  | { kind: 'reauth'; then: 'enrol' | 'disable' }
  | { kind: 'enrolling'; enrollment: TotpEnrollment }
  | { kind: 'codes'; recoveryCodes: readonly string[] }
  | { kind: 'confirm-disable' };

const needsReauth = (error: unknown) =>
  error instanceof ApiError && error.code === 'reauthentication_required';

/**
 * Two-step sign-in (TOTP): enrol (a QR code of the otpauth URI, the secret and the URI, then a code to confirm; the recovery codes are
 * shown once), or turn it off. Both need a recent password proof; when the server asks for one
 * (`reauthentication_required`) the section asks for the password and carries on.
 */
export function MfaSection({
  api,
  enabled,
  onChanged,
}: {
  api: ApiClient;
  enabled: boolean;
  onChanged: () => void;
}) {
  const [step, setStep] = useState<Step>({ kind: 'idle' });

  const enrol = async () => {
    try {
      setStep({ kind: 'enrolling', enrollment: await api.me.enrollTotp() });
    } catch (error) {
      if (!needsReauth(error)) throw error;
      setStep({ kind: 'reauth', then: 'enrol' });
    }
    return true;
  };
  const disable = async () => {
    try {
      await api.me.disableTotp();
      setStep({ kind: 'idle' });
      onChanged();
    } catch (error) {
      if (!needsReauth(error)) throw error;
      setStep({ kind: 'reauth', then: 'disable' });
    }
    return true;
  };

  const start = useSubmit(enrol);
  const turnOff = useSubmit(disable);
  const reauth = useSubmit(async (data) => {
    const totp = formText(data, 'reauth-totp');
    await api.sessions.reauthenticate({ password: formSecret(data, 'password'), ...(totp ? { totp } : {}) });
    return step.kind === 'reauth' && step.then === 'disable' ? disable() : enrol();
  });
  const confirm = useSubmit(async (data) => {
    const { recoveryCodes } = await api.me.confirmTotp(formText(data, 'code').replace(/\s+/g, ''));
    setStep({ kind: 'codes', recoveryCodes });
    return true;
  });

  return (
    <section aria-labelledby="mfa-heading">
      <h2 id="mfa-heading">Two-step sign-in</h2>
      {step.kind === 'idle' && !enabled && (
        <form onSubmit={start.onSubmit}>
          <p>Protect your account with codes from an authenticator app.</p>
          <button type="submit" disabled={start.pending}>
            Set up an authenticator app
          </button>
          <ProblemAlert problem={start.problem} />
        </form>
      )}
      {step.kind === 'idle' && enabled && (
        <>
          <p>Two-step sign-in is on.</p>
          <button type="button" className="danger" onClick={() => setStep({ kind: 'confirm-disable' })}>
            Turn off two-step sign-in
          </button>
        </>
      )}
      {step.kind === 'confirm-disable' && (
        <form onSubmit={turnOff.onSubmit} role="alertdialog" aria-labelledby="mfa-off-q" className="confirm">
          <p id="mfa-off-q">Turn off two-step sign-in? Your password alone will then sign you in.</p>
          <button type="submit" className="danger" disabled={turnOff.pending}>
            Turn it off
          </button>{' '}
          <button type="button" onClick={() => setStep({ kind: 'idle' })}>
            Keep it on
          </button>
          <ProblemAlert problem={turnOff.problem} />
        </form>
      )}
      {step.kind === 'reauth' && (
        <form onSubmit={reauth.onSubmit}>
          <p>For this change, confirm it is you.</p>
          <Field
            id="reauth-password"
            label="Your password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
          />
          {enabled && (
            <Field
              id="reauth-totp"
              label="Authenticator code"
              name="reauth-totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
            />
          )}
          <ProblemAlert problem={reauth.problem} />
          <button type="submit" className="primary" disabled={reauth.pending}>
            Confirm
          </button>{' '}
          <button type="button" onClick={() => setStep({ kind: 'idle' })}>
            Cancel
          </button>
        </form>
      )}
      {step.kind === 'enrolling' && (
        <form onSubmit={confirm.onSubmit}>
          <ol className="steps">
            <li>
              Scan this code with your authenticator app:
              <br />
              <OtpauthQrCode uri={step.enrollment.otpauthUrl} />
              <br />
              or add an account with this key:{' '}
              <code className="secret" aria-label="Secret key">
                {step.enrollment.secret}
              </code>
              <br />
              or, on this device, <a href={step.enrollment.otpauthUrl}>open it in your authenticator app</a>.
              <details>
                <summary>Setup link (otpauth URI)</summary>
                <code className="secret" data-testid="otpauth-uri">
                  {step.enrollment.otpauthUrl}
                </code>
              </details>
            </li>
            <li>Enter the six-digit code the app shows.</li>
          </ol>
          <Field
            label="Code from the app"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
          />
          <ProblemAlert problem={confirm.problem} />
          <button type="submit" className="primary" disabled={confirm.pending}>
            Turn on
          </button>
        </form>
      )}
      {step.kind === 'codes' && (
        <div role="status">
          <p>
            Two-step sign-in is on. Keep these recovery codes somewhere safe: each signs you in once if you
            lose your phone. They are shown only now.
          </p>
          <ul className="recovery-codes" aria-label="Recovery codes">
            {step.recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button
            type="button"
            onClick={() => {
              setStep({ kind: 'idle' });
              onChanged();
            }}
          >
            I have saved them
          </button>
        </div>
      )}
    </section>
  );
}
