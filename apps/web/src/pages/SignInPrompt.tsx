import { Link } from '../app/Link.tsx';

export function SignInPrompt({ next }: { next: string }) {
  return (
    <div className="alert" role="alert">
      <p>You are not signed in.</p>
      <p>
        <Link to={{ page: 'sign-in', next }}>Sign in</Link> or{' '}
        <Link to={{ page: 'sign-up' }}>create an account</Link>.
      </p>
    </div>
  );
}
