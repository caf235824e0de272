import { useRef, useState } from 'react';
import type { ApiClient } from '../../api/client.ts';
import type { MapSummary, Org, OrgMember } from '../../api/types.ts';
import { Field, formText, ProblemAlert, useSubmit } from '../../ui/forms.tsx';
import { useApiQuery } from '../../ui/useApiQuery.ts';

/**
 * Share a map with a person of the organisation (`POST /maps/{id}/shares`) and list who has it
 * (`GET /maps/{id}/shares`). The server answers account ids only; names and emails come from the org's
 * member list, which also suggests addresses while typing.
 */
export function SharePanel({
  api,
  map,
  members,
  org,
  onMembersStale,
}: {
  api: ApiClient;
  map: MapSummary;
  /** The members of the map's org, when the caller may read them. */
  members: readonly OrgMember[];
  /** The map's org; its admins may invite a person who is not a member yet. */
  org?: Org | undefined;
  /** Called when a share names someone the member list does not know yet (they joined since it loaded). */
  onMembersStale?: (() => void) | undefined;
}) {
  /** The address of the last share attempt, for the invitation offer. */
  const attempted = useRef('');
  /** Who was just invited; cleared by the next share attempt. */
  const [invited, setInvited] = useState<string | null>(null);
  const [shares, reload] = useApiQuery(`shares:${map.id}`, () => api.maps.shares(map.id));
  const owner = map.role === 'owner';
  const share = useSubmit(async (data) => {
    const email = formText(data, 'email');
    attempted.current = email;
    setInvited(null);
    const role = formText(data, 'role') === 'editor' ? 'editor' : 'viewer';
    const result = await api.maps.share(map.id, email, role);
    if (!members.some((m) => m.accountId === result.accountId)) onMembersStale?.();
    reload();
    return { email, role: result.role };
  });
  // Sharing finds people among the org's members; an admin can invite someone who is not one yet.
  const notMember =
    share.problem?.code === 'account_not_found' && org?.role === 'admin' && attempted.current
      ? attempted.current
      : undefined;
  const invite = useSubmit(async () => {
    if (!org || !notMember) return null;
    await api.orgs.invite(org.id, notMember, 'member');
    share.setProblem(null);
    setInvited(notMember);
    return notMember;
  });
  const unshare = useSubmit(async (data) => {
    await api.maps.unshare(map.id, formText(data, 'accountId'));
    reload();
    return true;
  });
  const who = (accountId: string) => {
    const m = members.find((x) => x.accountId === accountId);
    return m ? `${m.firstName} ${m.lastName} <${m.email}>` : accountId;
  };
  const listId = `share-suggestions-${map.id}`;
  return (
    <div className="share-panel">
      {owner && (
        <form className="inline-form" onSubmit={share.onSubmit} aria-label={`Share ${map.title}`}>
          <Field
            id={`share-email-${map.id}`}
            label="Email of the person"
            name="email"
            type="email"
            autoComplete="off"
            required
            list={listId}
          />
          <datalist id={listId}>
            {members.map((m) => (
              <option key={m.accountId} value={m.email}>
                {m.firstName} {m.lastName}
              </option>
            ))}
          </datalist>
          <div className="field">
            <label htmlFor={`share-role-${map.id}`}>Role</label>
            <select id={`share-role-${map.id}`} name="role" defaultValue="viewer">
              <option value="viewer">Viewer (can read)</option>
              <option value="editor">Editor (can change)</option>
            </select>
          </div>
          <button type="submit" className="primary" disabled={share.pending}>
            Share
          </button>
        </form>
      )}
      {share.result && (
        <p role="status">
          Shared with {share.result.email} as {share.result.role}.
        </p>
      )}
      <ProblemAlert problem={share.problem ?? unshare.problem} />
      {notMember && org && (
        <form onSubmit={invite.onSubmit}>
          <button type="submit" disabled={invite.pending}>
            Invite {notMember} to {org.name}
          </button>
        </form>
      )}
      {invited && (
        <p role="status">
          Invitation sent to {invited}. Share the map again once they have joined {org?.name}.
        </p>
      )}
      <ProblemAlert problem={invite.problem} />
      <h3>People with access</h3>
      {shares.status === 'loading' && <p role="status">Loading…</p>}
      {shares.status === 'error' && <ProblemAlert problem={shares.problem} />}
      {shares.status === 'ready' && shares.data.length === 0 && <p className="muted">Only you.</p>}
      {shares.status === 'ready' && shares.data.length > 0 && (
        <ul className="share-list" aria-label={`People with access to ${map.title}`}>
          {shares.data.map((s) => (
            <li key={s.accountId}>
              <span>
                {s.email ?? who(s.accountId)} · {s.role}
              </span>
              {owner && (
                <form onSubmit={unshare.onSubmit}>
                  <input type="hidden" name="accountId" value={s.accountId} />
                  <button
                    type="submit"
                    className="danger"
                    aria-label={`Stop sharing with ${who(s.accountId)}`}
                  >
                    Remove
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
