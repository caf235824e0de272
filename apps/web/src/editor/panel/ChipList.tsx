import { useId, useState, type KeyboardEvent } from 'react';
import { addLabels } from './taskFields.ts';

interface Props {
  /** What the list holds, e.g. "Tags": names the input, the list and the remove buttons. */
  readonly label: string;
  /** One item, e.g. "tag": used in "Add tag" and "Remove tag x". */
  readonly itemName: string;
  readonly items: readonly string[];
  readonly disabled: boolean;
  /** Called once per add or remove, with the whole new list (one undo step). */
  readonly onChange: (items: string[]) => void;
}

/** Labels as removable chips, with a field that adds one or several (comma-separated) at a time. */
export function ChipList({ label, itemName, items, disabled, onChange }: Props) {
  const [draft, setDraft] = useState('');
  const inputId = useId();
  const add = () => {
    const next = addLabels(items, draft);
    setDraft('');
    if (next.length !== items.length) onChange(next);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key !== 'Enter' || e.nativeEvent.isComposing) return;
    e.preventDefault();
    add();
  };
  return (
    <div className="chip-list">
      {items.length > 0 && (
        <ul className="chips" aria-label={label}>
          {items.map((item) => (
            <li key={item} className="chip">
              <span>{item}</span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove ${itemName} ${item}`}
                disabled={disabled}
                onClick={() => onChange(items.filter((i) => i !== item))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="panel-inline-form">
        <label htmlFor={inputId} className="visually-hidden">
          Add {itemName}
        </label>
        <input
          id={inputId}
          value={draft}
          disabled={disabled}
          placeholder={`Add ${itemName}…`}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="button" disabled={disabled || draft.trim() === ''} onClick={add}>
          Add
        </button>
      </div>
    </div>
  );
}
