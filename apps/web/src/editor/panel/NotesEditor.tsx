import {
  useCallback,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type KeyboardEvent,
} from 'react';
import { notesNodes, sanitizeNotesHtml, showNotes } from './notesHtml.ts';
import { parseWebLink } from './webLink.ts';

interface Props {
  readonly topicId: string;
  readonly notesHtml: string | undefined;
  readonly readOnly: boolean;
  /** Saves the sanitised note of a topic (undefined: no note). Called once per burst of typing. */
  readonly onSave: (topicId: string, notesHtml: string | undefined) => void;
  /** Escape: back to the map. */
  readonly onLeave: () => void;
}

/** Typing pauses longer than this end one undo step; a blur or a change of topic ends it at once. */
export const NOTES_SAVE_DELAY_MS = 700;

type Format = 'bold' | 'italic' | 'underline' | 'insertUnorderedList' | 'insertOrderedList' | 'unlink';

const FORMATS: readonly { command: Format; label: string; text: string; keys?: string }[] = [
  { command: 'bold', label: 'Bold', text: 'B', keys: 'Control+B' },
  { command: 'italic', label: 'Italic', text: 'I', keys: 'Control+I' },
  { command: 'underline', label: 'Underline', text: 'U', keys: 'Control+U' },
  { command: 'insertUnorderedList', label: 'Bulleted list', text: '•' },
  { command: 'insertOrderedList', label: 'Numbered list', text: '1.' },
];

/**
 * Rich-text notes in a contentEditable field with the browser's own editing commands: no editor library (the
 * ones that fit inject style elements or need a wider CSP), and the browser gives IME, spell-check and native
 * undo inside the field for free. What the field holds is never trusted: it is sanitised on every save and the
 * stored note is sanitised again when shown; pasted HTML is sanitised before it enters the page.
 */
export function NotesEditor({ topicId, notesHtml, readOnly, onSave, onLeave }: Props) {
  const fieldRef = useRef<HTMLDivElement | null>(null);
  /** The topic and note the field was last filled from or saved as. */
  const shown = useRef<{ topicId: string; html: string | undefined } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const selection = useRef<Range | null>(null);
  const saveRef = useRef(onSave);
  saveRef.current = onSave;
  const [linkDraft, setLinkDraft] = useState<string | null>(null);
  const [linkError, setLinkError] = useState<string | null>(null);
  const fieldId = useId();
  const linkId = useId();

  const flush = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
    const field = fieldRef.current;
    const last = shown.current;
    if (!field || !last) return;
    const html = sanitizeNotesHtml(field.innerHTML);
    if (html === last.html) return;
    shown.current = { topicId: last.topicId, html };
    saveRef.current(last.topicId, html);
  }, []);

  const scheduleSave = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(flush, NOTES_SAVE_DELAY_MS);
  };

  // Typing not saved yet belongs to the topic it was typed in: save it before another topic is shown (this
  // cleanup runs before the effect below fills the field again) and when the panel goes away.
  useLayoutEffect(() => () => flush(), [topicId, flush]);

  // Fill the field for a new topic, or when the note changed elsewhere (undo, a co-editor) while nothing typed
  // here waits to be saved. Our own saves come back equal to what is shown, so the caret stays put.
  useLayoutEffect(() => {
    const field = fieldRef.current!;
    const last = shown.current;
    if (last && last.topicId === topicId && (timer.current !== undefined || last.html === notesHtml)) return;
    showNotes(field, notesHtml);
    shown.current = { topicId, html: notesHtml };
  }, [topicId, notesHtml]);

  const rememberSelection = () => {
    const sel = document.getSelection();
    const field = fieldRef.current;
    if (sel && sel.rangeCount > 0 && field?.contains(sel.getRangeAt(0).commonAncestorContainer)) {
      selection.current = sel.getRangeAt(0).cloneRange();
    }
  };

  /**
   * Puts focus and the caret back in the field when a toolbar button reached by Tab or the link form took them.
   * A mouse click on a button leaves both in the field (mousedown is prevented): the live selection is then the
   * right one, and a remembered range may be stale after the last command changed the field.
   */
  const restoreSelection = () => {
    const field = fieldRef.current!;
    if (document.activeElement === field) return;
    field.focus();
    const range = selection.current;
    const sel = document.getSelection();
    if (range && sel && field.contains(range.commonAncestorContainer)) {
      sel.removeAllRanges();
      sel.addRange(range);
    }
  };

  const format = (command: Format) => {
    restoreSelection();
    document.execCommand(command);
    scheduleSave();
  };

  const applyLink = () => {
    const parsed = parseWebLink(linkDraft ?? '');
    if ('error' in parsed) {
      setLinkError(parsed.error);
      return;
    }
    restoreSelection();
    const sel = document.getSelection();
    if (sel && !sel.isCollapsed) {
      document.execCommand('createLink', false, parsed.url);
    } else {
      const a = document.createElement('a');
      a.href = parsed.url;
      a.textContent = parsed.url.replace(/^mailto:/, '');
      insertAtSelection(fieldRef.current!, [a]);
    }
    setLinkDraft(null);
    setLinkError(null);
    flush();
  };

  const openLinkForm = () => {
    rememberSelection();
    setLinkError(null);
    setLinkDraft('https://');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      flush();
      onLeave();
    } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
      e.preventDefault();
      openLinkForm();
    }
  };

  // Pasted markup from other pages may carry scripts, images from other origins and styles: only the
  // sanitised subset enters the field, as nodes built here (execCommand('insertHTML') would have Chromium add
  // `style` attributes of its own, each one a CSP violation).
  const onPaste = (e: ClipboardEvent<HTMLDivElement>) => {
    e.preventDefault();
    const html = e.clipboardData.getData('text/html');
    const text = e.clipboardData.getData('text/plain');
    const nodes = html ? notesNodes(document, html, { colors: false }) : plainTextNodes(text);
    insertAtSelection(e.currentTarget, nodes);
    scheduleSave();
  };

  return (
    <div className="notes-editor">
      <div className="notes-toolbar" role="toolbar" aria-label="Note formatting" aria-controls={fieldId}>
        {FORMATS.map(({ command, label, text, keys }) => (
          <button
            key={command}
            type="button"
            className={`format-${command}`}
            aria-label={label}
            title={keys ? `${label} (${keys.replace('Control', 'Ctrl')})` : label}
            aria-keyshortcuts={keys}
            disabled={readOnly}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => format(command)}
          >
            {text}
          </button>
        ))}
        <button
          type="button"
          aria-label="Link"
          title="Link (Ctrl+K)"
          aria-keyshortcuts="Control+K"
          aria-expanded={linkDraft !== null}
          disabled={readOnly}
          onMouseDown={(e) => e.preventDefault()}
          onClick={openLinkForm}
        >
          Link
        </button>
        <button
          type="button"
          aria-label="Remove link"
          title="Remove link"
          disabled={readOnly}
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => format('unlink')}
        >
          Unlink
        </button>
      </div>
      {linkDraft !== null && (
        <div className="panel-inline-form notes-link-form">
          <label htmlFor={linkId} className="visually-hidden">
            Link address
          </label>
          <input
            id={linkId}
            value={linkDraft}
            autoFocus
            aria-invalid={linkError !== null}
            aria-describedby={linkError ? `${linkId}-error` : undefined}
            onChange={(e) => setLinkDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                applyLink();
              } else if (e.key === 'Escape') {
                e.preventDefault();
                setLinkDraft(null);
                restoreSelection();
              }
            }}
          />
          <button type="button" onClick={applyLink}>
            Apply
          </button>
          {linkError && (
            <p id={`${linkId}-error`} className="panel-error" role="alert">
              {linkError}
            </p>
          )}
        </div>
      )}
      <div
        ref={fieldRef}
        id={fieldId}
        className="notes-field"
        role="textbox"
        aria-multiline="true"
        aria-label="Notes"
        aria-readonly={readOnly}
        data-placeholder={readOnly ? 'No notes' : 'Write a note…'}
        contentEditable={!readOnly}
        tabIndex={0}
        spellCheck
        onInput={scheduleSave}
        onBlur={() => {
          rememberSelection();
          flush();
        }}
        onKeyUp={rememberSelection}
        onMouseUp={rememberSelection}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
        // A drop would bring another page's markup (images, styles) into the field unsanitised until the save.
        onDrop={(e) => e.preventDefault()}
      />
    </div>
  );
}

/** Puts nodes where the caret is in the field (replacing the selection), and the caret after them. */
function insertAtSelection(field: HTMLElement, nodes: readonly Node[]): void {
  const sel = document.getSelection();
  const fragment = document.createDocumentFragment();
  fragment.append(...nodes);
  const last = fragment.lastChild;
  if (!sel || sel.rangeCount === 0 || !field.contains(sel.getRangeAt(0).commonAncestorContainer)) {
    field.append(fragment);
    return;
  }
  const range = sel.getRangeAt(0);
  range.deleteContents();
  // Never inside a link: a link in a link is invalid markup and the browser would split it unpredictably.
  const start = range.startContainer;
  const link = (start instanceof Element ? start : start.parentElement)?.closest('a');
  if (link && field.contains(link)) {
    range.setStartAfter(link);
    range.collapse(true);
  }
  range.insertNode(fragment);
  if (!last) return;
  range.setStartAfter(last);
  range.collapse(true);
  sel.removeAllRanges();
  sel.addRange(range);
}

/** Pasted plain text: its lines, separated by line breaks. */
function plainTextNodes(text: string): Node[] {
  const nodes: Node[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (i > 0) nodes.push(document.createElement('br'));
    if (line) nodes.push(document.createTextNode(line));
  }
  return nodes;
}
