import { useState } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { Me, OrgStorage, StoredMap } from '../api/types.ts';
import { AppLayout } from '../app/AppLayout.tsx';
import { Link } from '../app/Link.tsx';
import { navigate } from '../app/router.ts';
import { Field, formText, ProblemAlert, useSubmit } from '../ui/forms.tsx';
import { useApiQuery } from '../ui/useApiQuery.ts';
import { ImportDropZone } from './maps/ImportDropZone.tsx';
import { MapRow } from './maps/MapRow.tsx';
import { NewOrgForm } from './maps/NewOrgForm.tsx';
import { SignInPrompt } from './SignInPrompt.tsx';

/** The org requests act in: the chosen one, else the home org (the personal org made at sign-up). */
export function currentOrgId(api: ApiClient, me: Me | undefined): string | undefined {
  const chosen = api.org.get();
  if (chosen && me?.orgs?.some((o) => o.id === chosen)) return chosen;
  return me?.orgs?.find((o) => o.personal)?.id ?? me?.orgs?.[0]?.id;
}

export function MapsPage({ api }: { api: ApiClient }) {
  // Changing org reloads everything below: maps, members and shares all belong to one org.
  const [orgKey, setOrgKey] = useState(() => api.org.get() ?? 'home');
  const [me] = useApiQuery(`me:${orgKey}`, () => api.me.get());
  const [maps, reload] = useApiQuery(`maps:${orgKey}`, () => api.maps.list());
  const orgId = currentOrgId(api, me.status === 'ready' ? me.data : undefined);
  const [members, reloadMembers] = useApiQuery(`members:${orgId ?? ''}`, () =>
    orgId ? api.orgs.members(orgId).catch(() => []) : Promise.resolve([]),
  );
  // What the org's maps hold in images and attachments, against its quota: the org's admins may see it.
  const admin = me.status === 'ready' && me.data.orgs?.some((o) => o.id === orgId && o.role === 'admin');
  const [storage, reloadStorage] = useApiQuery(`storage:${admin ? orgId : ''}`, () =>
    admin && orgId ? api.orgs.storage(orgId).catch(() => undefined) : Promise.resolve(undefined),
  );
  const create = useSubmit(async (data) => {
    const map = await api.maps.create(formText(data, 'title') || 'Untitled map');
    navigate({ page: 'editor', mapId: map.id });
    return map;
  });
  const switchOrg = (id: string) => {
    const home = me.status === 'ready' ? me.data.orgs?.find((o) => o.personal)?.id : undefined;
    api.org.set(id === home ? null : id);
    setOrgKey(api.org.get() ?? 'home');
  };
  const orgs = me.status === 'ready' ? (me.data.orgs ?? []) : [];
  const signedOut = maps.status === 'error' && maps.problem.status === 401;

  if (signedOut) {
    return (
      <AppLayout current="maps">
        <h1>Your maps</h1>
        <SignInPrompt next="/maps" />
      </AppLayout>
    );
  }

  return (
    <AppLayout current="maps" api={api}>
      <ImportDropZone
        api={api}
        onImported={() => {
          reload();
          reloadStorage();
        }}
        before={
          <>
            <div className="page-heading">
              <h1>Your maps</h1>
              <div className="org-controls">
                {orgs.length > 1 && orgId && (
                  <div className="field org-switch">
                    <label htmlFor="org-switch">Organisation</label>
                    <select id="org-switch" value={orgId} onChange={(e) => switchOrg(e.currentTarget.value)}>
                      {orgs.map((o) => (
                        <option key={o.id} value={o.id}>
                          {o.personal ? `${o.name} (personal)` : o.name}
                        </option>
                      ))}
                    </select>
                  </div>
                )}
                {me.status === 'ready' && (
                  <NewOrgForm
                    api={api}
                    onCreated={(org) => {
                      // Straight into the new org: its (empty) map list, and the switcher lists it.
                      api.org.set(org.id);
                      setOrgKey(org.id);
                    }}
                  />
                )}
              </div>
            </div>
            <form className="inline-form" onSubmit={create.onSubmit}>
              <Field label="New map title" name="title" />
              <button type="submit" className="primary" disabled={create.pending}>
                Create map
              </button>
            </form>
            <ProblemAlert problem={create.problem} />
            {storage.status === 'ready' && storage.data && <StorageFigure storage={storage.data} />}
          </>
        }
      >
        {maps.status === 'loading' && <p role="status">Loading your maps…</p>}
        {maps.status === 'error' && <ProblemAlert problem={maps.problem} />}
        {maps.status === 'ready' && maps.data.length === 0 && (
          <p>No maps yet. Create one above, or drop a file here to import it.</p>
        )}
        {maps.status === 'ready' && maps.data.length > 0 && (
          <ul className="map-list" aria-label="Maps">
            {maps.data.map((m) => (
              <MapRow
                key={m.id}
                api={api}
                map={m}
                members={members.status === 'ready' ? members.data : []}
                org={orgs.find((o) => o.id === orgId)}
                onMembersStale={reloadMembers}
                onChanged={reload}
              />
            ))}
          </ul>
        )}
        <p className="muted">
          Just looking? <Link to={{ page: 'demo', topics: 200 }}>Open a demo map</Link> (kept in this tab
          only).
        </p>
      </ImportDropZone>
    </AppLayout>
  );
}

/**
 * "Images and attachments: 1.5 MiB of 10.0 GiB (< 1%)", what a full quota means, and the maps holding the most
 * (open when the quota is full: whose maps to ask about).
 */
function StorageFigure({ storage }: { storage: OrgStorage }) {
  const { usedBytes, quotaBytes } = storage;
  const maps = storage.maps ?? [];
  if (quotaBytes === null)
    return (
      <>
        <p className="muted storage-figure">Images and attachments: {formatBytes(usedBytes)} (no limit)</p>
        <LargestMaps maps={maps} open={false} />
      </>
    );
  const share = quotaBytes > 0 ? usedBytes / quotaBytes : 1;
  const full = usedBytes >= quotaBytes;
  return (
    <>
      <p className={full ? 'alert alert-error storage-figure' : 'muted storage-figure'}>
        Images and attachments: {formatBytes(usedBytes)} of {formatBytes(quotaBytes)} (
        {share < 0.01 && usedBytes > 0 ? '< 1' : Math.floor(share * 100)}%)
        {full &&
          ': full. New images, attachments and imports with images are refused until maps holding some are deleted or the quota is raised.'}
      </p>
      <LargestMaps maps={maps} open={full} />
    </>
  );
}

/** The maps counting the most against the quota, with their owners; titles only of maps shared with you. */
function LargestMaps({ maps, open }: { maps: readonly StoredMap[]; open: boolean }) {
  if (maps.length === 0) return null;
  return (
    <details className="storage-maps" open={open}>
      <summary>Maps holding the most</summary>
      <table aria-label="Maps holding the most images and attachments">
        <thead>
          <tr>
            <th scope="col">Map</th>
            <th scope="col">Owner</th>
            <th scope="col">Images and attachments</th>
          </tr>
        </thead>
        <tbody>
          {maps.map((m) => (
            <tr key={m.id}>
              <td>
                {m.title !== null ? (
                  <Link to={{ page: 'editor', mapId: m.id }}>{m.title}</Link>
                ) : (
                  <span className="muted">Not shared with you</span>
                )}
              </td>
              <td>{m.owner.email ?? 'a deleted account'}</td>
              <td>
                {formatBytes(m.bytes)} in {m.blobs} {m.blobs === 1 ? 'file' : 'files'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** Bytes for people: 0 B, 512 B, 1.5 KiB, 10.0 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
