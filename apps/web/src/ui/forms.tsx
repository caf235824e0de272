import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, networkProblem, type Problem } from '../api/problem.ts';

/** Submission state of a form that calls the API. */
export function useSubmit<T>(action: (data: FormData) => Promise<T>) {
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [result, setResult] = useState<T | null>(null);
  const onSubmit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setPending(true);
    setProblem(null);
    try {
      setResult(await action(new FormData(e.currentTarget)));
    } catch (error) {
      setProblem(error instanceof ApiError ? error.problem : networkProblem(error));
    } finally {
      setPending(false);
    }
  };
  return { pending, problem, result, onSubmit, setProblem };
}

/** Human wording for the error codes a person can act on; anything else shows the server's own title and detail. */
const MESSAGES: Record<string, string> = {
  invalid_credentials: 'That email and password do not match an account.',
  email_taken: 'An account with this email already exists. Sign in instead, or reset the password.',
  mfa_required: 'Enter the code from your authenticator app.',
  invalid_totp: 'That code is not right. Codes change every 30 seconds: try the current one.',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
  weak_password: 'Choose a longer or less common password (8 to 128 characters).',
  unauthenticated: 'Please sign in first.',
  network_error: 'Canopy could not be reached. Check your connection, or whether the server is running.',
};

export function ProblemAlert({ problem }: { problem: Problem | null }) {
  if (!problem) return null;
  const message = MESSAGES[problem.code];
  return (
    <div className="alert alert-error" role="alert">
      <strong>{message ?? problem.title}</strong>
      {!message && problem.detail && <p>{problem.detail}</p>}
      {problem.retryAfter !== undefined && <p>Try again in {problem.retryAfter} s.</p>}
      {problem.errors && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e, i) => (
            <li key={i}>
              {e.path ? `${e.path.replace(/^\//, '')}: ` : ''}
              {e.message}
            </li>
          ))}
        </ul>
      )}
      <p className="problem-code">
        Error code: <code>{problem.code}</code>
        {problem.status > 0 ? ` (HTTP ${problem.status})` : ''}
      </p>
    </div>
  );
}

interface FieldProps {
  readonly label: string;
  readonly name: string;
  readonly type?: string;
  readonly autoComplete?: string;
  readonly required?: boolean;
  readonly minLength?: number;
  readonly inputMode?: 'numeric' | 'email' | 'text';
  readonly defaultValue?: string;
  readonly hint?: ReactNode;
}

export function Field({ label, name, type = 'text', hint, ...rest }: FieldProps) {
  const id = `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} aria-describedby={hint ? `${id}-hint` : undefined} {...rest} />
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

export function formText(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/** Passwords are sent as typed (no trimming). */
export function formSecret(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}
