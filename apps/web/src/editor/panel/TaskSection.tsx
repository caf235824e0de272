import type { Task } from '@canopy/model';
import { useEffect, useId, useRef, useState } from 'react';
import { ChipList } from './ChipList.tsx';
import { dateInputValue, parseProgress, storedDate, withTaskField } from './taskFields.ts';

interface Props {
  readonly task: Task | undefined;
  readonly readOnly: boolean;
  /** One call per committed field (one undo step); undefined removes the task. */
  readonly onChange: (task: Task | undefined) => void;
}

/**
 * Task info as MindManager keeps it: priority 1–9, progress 0–100 %, start and due dates, resources.
 * Choices commit at once; typed fields (progress, dates) commit when they are left or on Enter, so that typing
 * "75" or a year is one undo step, not one per keystroke.
 */
export function TaskSection({ task, readOnly, onChange }: Props) {
  const id = useId();
  const set = <K extends keyof Task>(key: K, value: Task[K] | undefined) =>
    onChange(withTaskField(task, key, value));
  return (
    <fieldset className="task-section" disabled={readOnly}>
      <legend className="visually-hidden">Task</legend>
      <div className="task-grid">
        <label htmlFor={`${id}-priority`}>Priority</label>
        <select
          id={`${id}-priority`}
          value={task?.priority ?? ''}
          onChange={(e) => set('priority', e.target.value ? Number(e.target.value) : undefined)}
        >
          <option value="">None</option>
          {[1, 2, 3, 4, 5, 6, 7, 8, 9].map((p) => (
            <option key={p} value={p}>
              {p}
              {p === 1 ? ' (highest)' : p === 9 ? ' (lowest)' : ''}
            </option>
          ))}
        </select>

        <label htmlFor={`${id}-progress`}>Progress (%)</label>
        <CommitOnLeave
          id={`${id}-progress`}
          type="number"
          stored={task?.progress === undefined ? '' : String(task.progress)}
          extra={{ min: 0, max: 100, step: 5 }}
          onCommit={(value) => {
            const progress = parseProgress(value);
            if (progress !== task?.progress) set('progress', progress);
          }}
        />

        <label htmlFor={`${id}-start`}>Start</label>
        <CommitOnLeave
          id={`${id}-start`}
          type="date"
          stored={dateInputValue(task?.startDate)}
          onCommit={(value) => {
            if (value !== dateInputValue(task?.startDate))
              set('startDate', storedDate(value, task?.startDate));
          }}
        />

        <label htmlFor={`${id}-due`}>Due</label>
        <CommitOnLeave
          id={`${id}-due`}
          type="date"
          stored={dateInputValue(task?.dueDate)}
          onCommit={(value) => {
            if (value !== dateInputValue(task?.dueDate)) set('dueDate', storedDate(value, task?.dueDate));
          }}
        />
      </div>
      <h4 className="panel-subheading">Resources</h4>
      <ChipList
        label="Resources"
        itemName="resource"
        items={task?.resources ?? []}
        disabled={readOnly}
        onChange={(resources) => set('resources', resources)}
      />
      {task && (
        <button type="button" className="danger panel-clear" onClick={() => onChange(undefined)}>
          Clear task info
        </button>
      )}
    </fieldset>
  );
}

/**
 * An input holding a draft while focused, committed on blur, on Enter, or when it goes away with a draft left
 * (the panel shows another topic: the draft belongs to the topic it was typed for). It follows the stored value
 * otherwise.
 */
function CommitOnLeave({
  id,
  type,
  stored,
  extra,
  onCommit,
}: {
  id: string;
  type: 'number' | 'date';
  stored: string;
  extra?: { min: number; max: number; step: number };
  onCommit: (value: string) => void;
}) {
  const [draft, setDraft] = useState(stored);
  useEffect(() => setDraft(stored), [stored]);
  const latest = useRef({ draft, stored, onCommit });
  latest.current = { draft, stored, onCommit };
  useEffect(
    () => () => {
      const last = latest.current;
      if (last.draft !== last.stored) last.onCommit(last.draft);
    },
    [],
  );
  return (
    <input
      id={id}
      type={type}
      value={draft}
      {...extra}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => onCommit(draft)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          onCommit(draft);
        }
      }}
    />
  );
}
