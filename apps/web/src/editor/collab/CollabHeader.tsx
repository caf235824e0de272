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

/**
 * Who else is in the map, each in the colour of their ring on the canvas, and (for screen readers and the
 * tooltip) which topic they have selected.
 */
export function PresenceChips({
  collaborators,
  topicText,
}: {
  collaborators: readonly Collaborator[];
  topicText: (topicId: string) => string | undefined;
}) {
  if (collaborators.length === 0) return null;
  return (
    <ul className="presence-chips" aria-label="Also in this map">
      {collaborators.map((c) => {
        const on = c.selection === null ? undefined : topicText(c.selection);
        return (
          <li
            key={c.session}
            className="presence-chip"
            style={{ borderColor: c.color }}
            title={on === undefined ? c.name : `${c.name}: on “${on}”`}
          >
            <span className="presence-dot" style={{ background: c.color }} aria-hidden="true" />
            {c.name}
            {on !== undefined && <span className="visually-hidden">, on “{on}”</span>}
          </li>
        );
      })}
    </ul>
  );
}
