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
  invalid_token: 'This link is not valid: it was used already, has expired, or is wrong.',
  reauthentication_required: 'For this change, confirm your password first.',
  srp_verification_failed: 'Sign-in could not be completed safely. You were not signed in.',
  // Map import (packages/formats' codes) and sharing.
  unsupported_format: 'Canopy cannot read this kind of file. Import .mmap, .xmind, .mm, .opml, .md or .json.',
  invalid_file: 'The file is damaged or is not what its name says, so it could not be read.',
  too_large: 'The file is too large to import.',
  too_deep: 'The map nests topics too deeply to import.',
  too_many_topics: 'The map has too many topics to import.',
  too_many_entries: 'The file holds too many parts to import.',
  password_protected: 'The file is protected with a password. Save it without one, then import it.',
  xml_doctype_forbidden: 'The file contains XML features Canopy refuses for safety (a DOCTYPE).',
  zip_bomb: 'The file unpacks to far more data than it holds, so it was refused.',
  zip_path_traversal: 'The file contains unsafe paths, so it was refused.',
  account_not_found: 'Nobody in this organisation has that email. Invite them to the organisation first.',
  not_found: 'That was not found. It may have been deleted, or you no longer have access.',
  forbidden: 'You do not have permission to do that.',
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
  /** Defaults to `field-<name>`; set it when the same form appears more than once on a page. */
  readonly id?: string;
  readonly label: string;
  readonly name: string;
  readonly type?: string;
  readonly autoComplete?: string;
  readonly required?: boolean;
  readonly minLength?: number;
  readonly inputMode?: 'numeric' | 'email' | 'text';
  readonly defaultValue?: string;
  readonly hint?: ReactNode;
  /** The id of a <datalist> of suggestions. */
  readonly list?: string;
  readonly autoFocus?: boolean;
}

export function Field({ label, name, type = 'text', hint, id: idProp, ...rest }: FieldProps) {
  const id = idProp ?? `field-${name}`;
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
