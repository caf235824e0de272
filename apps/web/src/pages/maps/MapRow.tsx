import { useState } from 'react';
import type { ApiClient } from '../../api/client.ts';
import {
  EXPORT_FORMATS,
  type ExportFormat,
  type MapSummary,
  type Org,
  type OrgMember,
} from '../../api/types.ts';
import { Link } from '../../app/Link.tsx';
import { Field, formText, ProblemAlert, useSubmit } from '../../ui/forms.tsx';
import { saveBlob } from './download.ts';
import { SharePanel } from './SharePanel.tsx';

type Panel = 'none' | 'rename' | 'delete' | 'export' | 'share';

/** One map in the list: open it, and (by role) rename, export, share or delete it. One panel open at a time. */
export function MapRow({
  api,
  map,
  members,
  org,
  onChanged,
  onMembersStale,
}: {
  api: ApiClient;
  map: MapSummary;
  members: readonly OrgMember[];
  /** The org the list shows (the map's org). */
  org?: Org | undefined;
  /** After a rename or delete, so the list reloads. */
  onChanged: () => void;
  onMembersStale?: () => void;
}) {
  const [panel, setPanel] = useState<Panel>('none');
  const toggle = (p: Panel) => setPanel((current) => (current === p ? 'none' : p));
  const owner = map.role === undefined || map.role === 'owner';
  const canEdit = owner || map.role === 'editor';

  const rename = useSubmit(async (data) => {
    const title = formText(data, 'title');
    if (title && title !== map.title) await api.maps.rename(map.id, title);
    setPanel('none');
    onChanged();
    return true;
  });
  const remove = useSubmit(async () => {
    await api.maps.remove(map.id);
    onChanged();
    return true;
  });
  const download = useSubmit(async (data) => {
    const format = formText(data, 'format') as ExportFormat;
    const { blob, filename } = await api.maps.export(map.id, format);
    saveBlob(blob, filename);
    return filename;
  });

  return (
    <li className="map-row">
      <div className="map-row-main">
        <Link to={{ page: 'editor', mapId: map.id }} className="map-title">
          {map.title || 'Untitled map'}
        </Link>
        {map.role && map.role !== 'owner' && <span className="badge">{map.role}</span>}
        {map.updatedAt && <span className="muted"> · edited {new Date(map.updatedAt).toLocaleString()}</span>}
        <span className="map-actions">
          {canEdit && (
            <button type="button" aria-expanded={panel === 'rename'} onClick={() => toggle('rename')}>
              Rename<span className="visually-hidden"> {map.title}</span>
            </button>
          )}
          <button type="button" aria-expanded={panel === 'export'} onClick={() => toggle('export')}>
            Export<span className="visually-hidden"> {map.title}</span>
          </button>
          <button type="button" aria-expanded={panel === 'share'} onClick={() => toggle('share')}>
            Share<span className="visually-hidden"> {map.title}</span>
          </button>
          {owner && (
            <button
              type="button"
              className="danger"
              aria-expanded={panel === 'delete'}
              onClick={() => toggle('delete')}
            >
              Delete<span className="visually-hidden"> {map.title}</span>
            </button>
          )}
        </span>
      </div>

      {panel === 'rename' && (
        <form className="inline-form" onSubmit={rename.onSubmit}>
          <Field
            id={`rename-${map.id}`}
            label={`New title for ${map.title}`}
            name="title"
            defaultValue={map.title}
            required
            autoFocus
          />
          <button type="submit" className="primary" disabled={rename.pending}>
            Save title
          </button>
          <button type="button" onClick={() => setPanel('none')}>
            Cancel
          </button>
        </form>
      )}
      {panel === 'delete' && (
        <div role="alertdialog" aria-labelledby={`delete-${map.id}`} className="confirm">
          <p id={`delete-${map.id}`}>
            Delete <strong>{map.title}</strong> for everyone it is shared with? This cannot be undone.
          </p>
          <form onSubmit={remove.onSubmit} className="inline-form">
            <button type="submit" className="danger" disabled={remove.pending}>
              Delete map
            </button>
            <button type="button" onClick={() => setPanel('none')} autoFocus>
              Keep it
            </button>
          </form>
        </div>
      )}
      {panel === 'export' && (
        <form className="export-panel" onSubmit={download.onSubmit} aria-label={`Export ${map.title}`}>
          <div className="field">
            <label htmlFor={`export-${map.id}`}>Format</label>
            <select id={`export-${map.id}`} name="format" defaultValue="mmap">
              {EXPORT_FORMATS.map((f) => (
                <option key={f.format} value={f.format}>
                  {f.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="primary" disabled={download.pending}>
            {download.pending ? 'Preparing…' : 'Download'}
          </button>
          {download.result && <span role="status">Saved {download.result}</span>}
        </form>
      )}
      {panel === 'share' && (
        <SharePanel api={api} map={map} members={members} org={org} onMembersStale={onMembersStale} />
      )}
      <ProblemAlert problem={rename.problem ?? remove.problem ?? download.problem} />
    </li>
  );
}
