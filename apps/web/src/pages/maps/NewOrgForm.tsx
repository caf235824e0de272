import type { ApiClient } from '../../api/client.ts';
import type { Org } from '../../api/types.ts';
import { Field, formText, ProblemAlert, useSubmit } from '../../ui/forms.tsx';

/**
 * Creates an organisation (`POST /orgs`, the caller becomes its admin) and hands it to the page, which switches
 * to it: a team's shared maps live in an org of their own, and members are invited from there.
 */
export function NewOrgForm({ api, onCreated }: { api: ApiClient; onCreated: (org: Org) => void }) {
  const create = useSubmit(async (data) => {
    const org = await api.orgs.create(formText(data, 'name'));
    onCreated(org);
    return org;
  });
  return (
    <details className="new-org">
      <summary>New organisation</summary>
      <form className="inline-form" onSubmit={create.onSubmit}>
        <Field label="Org name" name="name" id="new-org-name" required />
        <button type="submit" className="primary" disabled={create.pending}>
          Create organisation
        </button>
      </form>
      <ProblemAlert problem={create.problem} />
    </details>
  );
}
