import type { Topic } from '@canopy/model';
import {
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { indexTopics, type TopicIndex } from '../document/topicIndex.ts';
import type { EditorStore, TopicDetails } from '../store/editorStore.ts';
import { ChipList } from './ChipList.tsx';
import { IconsSection } from './IconsSection.tsx';
import { ImageSection, type ImageUploader } from './ImageSection.tsx';
import { LinksSection } from './LinksSection.tsx';
import { NotesEditor } from './NotesEditor.tsx';
import {
  isTopicPanelOpen,
  isTopicPanelShortcut,
  setTopicPanelOpen,
  TOPIC_PANEL_ID,
  useTopicPanelOpen,
} from './panelVisibility.ts';
import { TaskSection } from './TaskSection.tsx';
import './panel.css';

export interface TopicSidePanelProps {
  readonly store: EditorStore;
  /** The selected topic. */
  readonly topicId: string;
  /** Viewers see the details but every control is disabled. */
  readonly readOnly?: boolean;
  /** Follows a topic link (selects the linked topic on the map). */
  readonly onSelectTopic?: (topicId: string) => void;
  /** Stores a new image (the Image section); without it the section only shows and removes. */
  readonly uploadImage?: ImageUploader;
  /** Scrolls to this section of this topic when the panel shows it (a badge clicked on the canvas); a new object each time. */
  readonly reveal?: { readonly topicId: string; readonly section: PanelSectionName };
}

/** The panel's sections, for `reveal`. */
export type PanelSectionName = 'notes' | 'image' | 'links' | 'markers' | 'task' | 'tags';

/**
 * The side panel beside the canvas: notes, image, links, markers, task info and tags of the selected topic. Every change
 * is one `setTopicDetails` call, so one undo step (notes: one per burst of typing). It sits in the editor's
 * layout as the sibling after `.editor-surface`, which it narrows while shown; Alt+Enter or the toolbar's
 * Details button shows and hides it.
 */
export function TopicSidePanel({
  store,
  topicId,
  readOnly = false,
  onSelectTopic,
  uploadImage,
  reveal,
}: TopicSidePanelProps) {
  const [open, setOpen] = useTopicPanelOpen();
  const panelRef = useRef<HTMLElement | null>(null);
  const focusOnOpen = useRef(false);

  // Alt+Enter anywhere on the page (the map's own keys never use Alt).
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented || !isTopicPanelShortcut(e)) return;
      e.preventDefault();
      if (!isTopicPanelOpen()) {
        focusOnOpen.current = true;
        setTopicPanelOpen(true);
        return;
      }
      const hadFocus = panelRef.current?.contains(document.activeElement) ?? false;
      setTopicPanelOpen(false);
      if (hadFocus) focusMap(panelRef.current);
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);

  // Another topic's details start at the top (its notes), not where the last one was scrolled to.
  useEffect(() => {
    panelRef.current?.scrollTo?.({ top: 0 });
  }, [topicId]);

  useEffect(() => {
    if (!open || reveal?.topicId !== topicId) return;
    panelRef.current
      ?.querySelector(`[data-section="${reveal.section}"]`)
      ?.scrollIntoView?.({ block: 'start' });
  }, [open, reveal, topicId]);

  useEffect(() => {
    if (open && focusOnOpen.current) panelRef.current?.focus();
    focusOnOpen.current = false;
  }, [open]);

  // Line the panel up with the map surface, whatever the toolbar and the bars around it measure.
  useLayoutEffect(() => {
    const panel = panelRef.current!;
    const host = panel.parentElement;
    const surface = host?.querySelector<HTMLElement>(':scope > .editor-surface');
    if (!host || !surface) return;
    const place = () => {
      panel.style.top = `${surface.offsetTop}px`;
      panel.style.height = `${surface.offsetHeight}px`;
    };
    place();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(place);
    observer.observe(surface);
    observer.observe(host);
    return () => observer.disconnect();
  }, [open]);

  return (
    <aside
      id={TOPIC_PANEL_ID}
      ref={panelRef}
      className="topic-panel"
      aria-label="Topic details"
      tabIndex={-1}
      hidden={!open}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) {
          e.preventDefault();
          focusMap(panelRef.current);
        }
      }}
    >
      {open && (
        <PanelContent
          store={store}
          topicId={topicId}
          readOnly={readOnly}
          onSelectTopic={onSelectTopic}
          uploadImage={uploadImage}
          onClose={() => {
            setOpen(false);
            focusMap(panelRef.current);
          }}
          onLeave={() => focusMap(panelRef.current)}
        />
      )}
    </aside>
  );
}

function PanelContent({
  store,
  topicId,
  readOnly,
  onSelectTopic,
  uploadImage,
  onClose,
  onLeave,
}: {
  store: EditorStore;
  topicId: string;
  readOnly: boolean;
  onSelectTopic: ((topicId: string) => void) | undefined;
  uploadImage: ImageUploader | undefined;
  onClose: () => void;
  onLeave: () => void;
}) {
  const doc = useSyncExternalStore(store.subscribe, store.getDocument);
  const index: TopicIndex = useMemo(() => indexTopics(doc), [doc]);
  const topic: Topic | undefined = index.get(topicId)?.topic;
  const titleId = useId();

  const update = (details: TopicDetails) => store.setTopicDetails(topicId, details);

  return (
    <>
      <header className="topic-panel-header">
        <div>
          <h2 id={titleId}>Topic details</h2>
          <p className="panel-topic-text">{topic ? topic.text || 'Untitled topic' : 'No topic selected'}</p>
        </div>
        <button
          type="button"
          className="panel-close"
          aria-label="Close details (Alt+Enter)"
          onClick={onClose}
        >
          ×
        </button>
      </header>
      {readOnly && <p className="panel-notice">View only: you cannot change this map.</p>}
      {topic && (
        // Keyed by topic: drafts (a half-typed tag, an open form) never carry over to the next topic, and fields
        // still holding a draft save it to their own topic as they go.
        <div className="topic-panel-body" key={topicId}>
          <PanelSection title="Notes" name="notes">
            <NotesEditor
              topicId={topicId}
              notesHtml={topic.notesHtml}
              readOnly={readOnly}
              onLeave={onLeave}
              onSave={(id, notesHtml) => {
                // The topic may have been removed (by a co-editor) while its note was being typed.
                if (indexTopics(store.getDocument()).has(id)) store.setTopicDetails(id, { notesHtml });
              }}
            />
          </PanelSection>
          <PanelSection title="Image" name="image">
            <ImageSection
              image={topic.image}
              readOnly={readOnly}
              upload={uploadImage}
              onChange={(image) => {
                // The upload takes a while: the topic may have been removed (by a co-editor) meanwhile.
                if (indexTopics(store.getDocument()).has(topicId)) update({ image });
              }}
            />
          </PanelSection>
          <PanelSection title="Links" name="links">
            <LinksSection
              topicId={topicId}
              links={topic.links ?? []}
              index={index}
              readOnly={readOnly}
              onSelectTopic={onSelectTopic}
              onChange={(links) => update({ links: links.length ? links : undefined })}
            />
          </PanelSection>
          <PanelSection title="Markers" name="markers">
            <IconsSection
              icons={topic.icons ?? []}
              readOnly={readOnly}
              onChange={(icons) => update({ icons: icons.length ? icons : undefined })}
            />
          </PanelSection>
          <PanelSection title="Task" name="task">
            <TaskSection task={topic.task} readOnly={readOnly} onChange={(task) => update({ task })} />
          </PanelSection>
          <PanelSection title="Tags" name="tags">
            <ChipList
              label="Tags"
              itemName="tag"
              items={topic.tags ?? []}
              disabled={readOnly}
              onChange={(tags) => update({ tags: tags.length ? tags : undefined })}
            />
          </PanelSection>
        </div>
      )}
    </>
  );
}

function PanelSection({
  title,
  name,
  children,
}: {
  title: string;
  name: PanelSectionName;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <section className="panel-section" aria-labelledby={id} data-section={name}>
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

/** Gives the keyboard back to the map: its ARIA tree, which holds the selection. */
function focusMap(panel: HTMLElement | null): void {
  const editor = panel?.parentElement ?? document;
  editor.querySelector<HTMLElement>('.topic-tree')?.focus({ preventScroll: true });
}
