import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import { ApiError, networkProblem, type Problem } from '../api/problem.ts';
import type { Org } from '../api/types.ts';
import { AppLayout } from '../app/AppLayout.tsx';
import { hrefFor, navigate } from '../app/router.ts';
import { ProblemAlert } from '../ui/forms.tsx';
import { SignInPrompt } from './SignInPrompt.tsx';

/** One request per token, even when React runs the effect twice (StrictMode): a token works once. */
const accepting = new Map<string, Promise<Org>>();

/**
 * The link of an org invitation mail (`/invitations/accept?token=`): joins the org as the signed-in person
 * (the server checks the invitation was sent to their email) and offers to switch to it.
 */
export function InvitationPage({ api, token }: { api: ApiClient; token: string }) {
  const [state, setState] = useState<'pending' | Org | Problem>('pending');
  useEffect(() => {
    let live = true;
    let pending = accepting.get(token);
    if (!pending) {
      pending = api.orgs.acceptInvitation(token);
      accepting.set(token, pending);
    }
    pending.then(
      (org) => live && setState(org),
      (error: unknown) => live && setState(error instanceof ApiError ? error.problem : networkProblem(error)),
    );
    return () => {
      live = false;
    };
  }, [api, token]);
  const openOrg = (org: Org) => {
    api.org.set(org.id);
    navigate({ page: 'maps' });
  };
  return (
    <AppLayout current="other" api={api}>
      <h1>Join an organisation</h1>
      {state === 'pending' && <p role="status">Accepting the invitation…</p>}
      {typeof state === 'object' && 'code' in state ? (
        state.status === 401 ? (
          <SignInPrompt next={hrefFor({ page: 'invitation', token })} />
        ) : (
          <ProblemAlert problem={state} />
        )
      ) : null}
      {typeof state === 'object' && 'id' in state && (
        <div role="status">
          <p>
            You are now a member of <strong>{state.name}</strong>.
          </p>
          <button type="button" className="primary" onClick={() => openOrg(state)}>
            Open {state.name}
          </button>
        </div>
      )}
    </AppLayout>
  );
}
