import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { EditSession } from './keyboard/executeCommand.ts';

interface Props {
  readonly edit: EditSession;
  readonly label: string;
  /** Receives the textarea so the editor can keep it over the topic while the view pans and zooms. */
  readonly fieldRef: (element: HTMLTextAreaElement | null) => void;
  /** The new text, or null when the edit is cancelled. */
  readonly onFinish: (text: string | null) => void;
}

/** The in-place text field over the topic being edited. Enter commits, Shift+Enter breaks the line, Esc cancels. */
export function TopicTextEditor({ edit, label, fieldRef, onFinish }: Props) {
  const field = useRef<HTMLTextAreaElement | null>(null);
  const finished = useRef(false);

  useEffect(() => {
    const el = field.current;
    if (!el) return;
    el.focus();
    if (edit.replace) el.setSelectionRange(el.value.length, el.value.length);
    else el.select();
  }, [edit]);

  const finish = (text: string | null) => {
    if (finished.current) return;
    finished.current = true;
    onFinish(text);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    e.stopPropagation();
    if (e.nativeEvent.isComposing) return;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      finish(e.currentTarget.value);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      finish(null);
    } else if (e.key === 'Tab') {
      e.preventDefault();
      finish(e.currentTarget.value);
    }
  };

  return (
    <textarea
      ref={(el) => {
        field.current = el;
        fieldRef(el);
      }}
      className="topic-text-editor"
      aria-label={label}
      defaultValue={edit.initialText}
      rows={1}
      spellCheck
      onKeyDown={onKeyDown}
      onBlur={(e) => finish(e.currentTarget.value)}
    />
  );
}
