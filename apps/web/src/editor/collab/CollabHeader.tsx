import type { CollabView } from './collabSession.ts';
import type { Collaborator } from './presence.ts';
import './collab.css';

const INDICATOR_TEXT: Record<CollabView['indicator'], string> = {
  saved: 'Saved',
  syncing: 'Syncing…',
  offline: 'Offline',
};

/**
 * "Saved" once the server has durably stored every edit of this tab, "Syncing…" while some are on their way,
 * "Offline" with no connection (edits stay in the tab and go out on reconnect). Polite: it changes often.
 */
export function SaveIndicator({ indicator }: { indicator: CollabView['indicator'] }) {
  return (
    <p className={`save-indicator save-${indicator}`} role="status" aria-live="polite">
      {INDICATOR_TEXT[indicator]}
    </p>
  );
}

/** Who else is in the map, each in the colour of their ring on the canvas. */
export function PresenceChips({ collaborators }: { collaborators: readonly Collaborator[] }) {
  if (collaborators.length === 0) return null;
  return (
    <ul className="presence-chips" aria-label="Also in this map">
      {collaborators.map((c) => (
        <li
          key={c.session}
          className="presence-chip"
          style={{ borderColor: c.color }}
          data-account={c.accountId}
          title={c.selection ? `${c.name} (has a topic selected)` : c.name}
        >
          <span className="presence-dot" style={{ background: c.color }} aria-hidden="true" />
          {c.name}
        </li>
      ))}
    </ul>
  );
}
