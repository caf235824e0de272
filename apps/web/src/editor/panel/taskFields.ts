import type { Task } from '@canopy/model';

/**
 * The task as the panel edits it, one field at a time. Returns `undefined` when nothing is left, so that the
 * topic loses its `task` key (and its task badge) rather than keeping an empty object.
 */
export function withTaskField<K extends keyof Task>(
  task: Task | undefined,
  key: K,
  value: Task[K] | undefined,
): Task | undefined {
  const next: Task = { ...task };
  if (value === undefined || (Array.isArray(value) && value.length === 0)) delete next[key];
  else next[key] = value;
  return Object.keys(next).length === 0 ? undefined : next;
}

/** The yyyy-mm-dd a date input shows for a stored RFC 3339 value (importers keep MindManager's local times). */
export function dateInputValue(stored: string | undefined): string {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(stored ?? '');
  return match ? match[1]! : '';
}

/**
 * The stored value for a picked date: the time of day of the previous value is kept (a date picked again keeps
 * an imported 09:00), a new date is midnight UTC. Empty clears.
 */
export function storedDate(input: string, previous: string | undefined): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input)) return undefined;
  const time = /^\d{4}-\d{2}-\d{2}(T.*)$/.exec(previous ?? '')?.[1];
  return `${input}${time ?? 'T00:00:00Z'}`;
}

/** Progress as typed: a whole percentage from 0 to 100, or undefined for an empty field. */
export function parseProgress(input: string): number | undefined {
  if (input.trim() === '') return undefined;
  const n = Number(input);
  if (!Number.isFinite(n)) return undefined;
  return Math.max(0, Math.min(100, Math.round(n)));
}

/** Adds typed labels (comma-separated allowed) to a list, trimmed, without duplicates. */
export function addLabels(list: readonly string[] | undefined, input: string): string[] {
  const next = [...(list ?? [])];
  for (const part of input.split(',')) {
    const label = part.trim();
    if (label && !next.includes(label)) next.push(label);
  }
  return next;
}
