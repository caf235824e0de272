import type { Link } from '@canopy/model';
import { useId, useMemo, useState } from 'react';
import type { TopicIndex } from '../document/topicIndex.ts';
import { isSafeWebUrl, parseWebLink } from './webLink.ts';

interface Props {
  readonly topicId: string;
  readonly links: readonly Link[];
  readonly index: TopicIndex;
  readonly readOnly: boolean;
  readonly onChange: (links: Link[]) => void;
  readonly onSelectTopic: ((topicId: string) => void) | undefined;
}

const MAX_MATCHES = 8;

/** Web links (http, https, mailto) and links to other topics of the map: listed, added, removed. */
export function LinksSection({ topicId, links, index, readOnly, onChange, onSelectTopic }: Props) {
  const [kind, setKind] = useState<'url' | 'topic'>('url');
  const [url, setUrl] = useState('');
  const [title, setTitle] = useState('');
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (kind !== 'topic' || !q) return [];
    const found: { id: string; text: string }[] = [];
    for (const [candidate, entry] of index) {
      if (candidate === topicId || !entry.topic.text.toLowerCase().includes(q)) continue;
      found.push({ id: candidate, text: entry.topic.text });
      if (found.length === MAX_MATCHES) break;
    }
    return found;
  }, [index, kind, query, topicId]);

  const addUrl = () => {
    const parsed = parseWebLink(url);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    const link: Link = title.trim()
      ? { kind: 'url', url: parsed.url, title: title.trim() }
      : { kind: 'url', url: parsed.url };
    onChange([...links, link]);
    setUrl('');
    setTitle('');
    setError(null);
  };

  const addTopic = (target: string) => {
    onChange([...links, { kind: 'topic', topicId: target }]);
    setQuery('');
  };

  return (
    <div className="links-section">
      {links.length > 0 ? (
        <ul className="panel-list" aria-label="Links">
          {links.map((link, i) => (
            <li key={i}>
              <LinkView link={link} index={index} onSelectTopic={onSelectTopic} />
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove link ${linkLabel(link, index)}`}
                disabled={readOnly}
                onClick={() => onChange(links.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="panel-empty">No links.</p>
      )}
      <details className="panel-add">
        <summary>Add a link</summary>
        <fieldset disabled={readOnly}>
          <legend className="visually-hidden">Add a link</legend>
          <div className="segmented small" role="group" aria-label="Link to">
            <button type="button" aria-pressed={kind === 'url'} onClick={() => setKind('url')}>
              Web address
            </button>
            <button type="button" aria-pressed={kind === 'topic'} onClick={() => setKind('topic')}>
              Topic
            </button>
          </div>
          {kind === 'url' ? (
            <form
              className="panel-stack"
              onSubmit={(e) => {
                e.preventDefault();
                addUrl();
              }}
            >
              <label htmlFor={`${id}-url`}>Address</label>
              <input
                id={`${id}-url`}
                inputMode="url"
                value={url}
                placeholder="https://…"
                aria-invalid={error !== null}
                aria-describedby={error ? `${id}-error` : undefined}
                onChange={(e) => setUrl(e.target.value)}
              />
              <label htmlFor={`${id}-title`}>Title (optional)</label>
              <input id={`${id}-title`} value={title} onChange={(e) => setTitle(e.target.value)} />
              {error && (
                <p id={`${id}-error`} className="panel-error" role="alert">
                  {error}
                </p>
              )}
              <button type="submit" disabled={url.trim() === ''}>
                Add link
              </button>
            </form>
          ) : (
            <div className="panel-stack">
              <label htmlFor={`${id}-topic`}>Find a topic</label>
              <input
                id={`${id}-topic`}
                type="search"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
              />
              {matches.length > 0 && (
                <ul className="panel-list topic-matches" aria-label="Matching topics">
                  {matches.map((m) => (
                    <li key={m.id}>
                      <button type="button" onClick={() => addTopic(m.id)}>
                        Link to “{m.text || 'Untitled'}”
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              {query.trim() !== '' && matches.length === 0 && (
                <p className="panel-empty">No topic matches.</p>
              )}
            </div>
          )}
        </fieldset>
      </details>
    </div>
  );
}

function LinkView({
  link,
  index,
  onSelectTopic,
}: {
  link: Link;
  index: TopicIndex;
  onSelectTopic: ((topicId: string) => void) | undefined;
}) {
  if (link.kind === 'url') {
    // Imported links can carry any scheme: only web and mail links become clickable.
    if (!isSafeWebUrl(link.url))
      return <span className="link-unsafe">{linkLabel(link, index)} (blocked)</span>;
    return (
      <a href={link.url} target="_blank" rel="noopener noreferrer" title={link.url}>
        {link.title ?? link.url.replace(/^mailto:/, '')}
      </a>
    );
  }
  const target = index.get(link.topicId);
  if (!target) return <span className="link-missing">{linkLabel(link, index)}</span>;
  return (
    <button type="button" className="link-topic" onClick={() => onSelectTopic?.(link.topicId)}>
      → {linkLabel(link, index)}
    </button>
  );
}

function linkLabel(link: Link, index: TopicIndex): string {
  if (link.kind === 'url') return link.title ?? link.url;
  const target = index.get(link.topicId);
  if (!target) return `${link.title ?? link.topicId} (topic no longer in the map)`;
  return link.title ?? (target.topic.text || 'Untitled topic');
}
