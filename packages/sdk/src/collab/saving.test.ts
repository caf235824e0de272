import { describe, expect, it } from 'vitest';
import { SaveTracker } from './saving.ts';

describe('SaveTracker', () => {
  it('is saved once the update carrying the latest edit is acknowledged, whatever order the acks come in', () => {
    const saving = new SaveTracker(false);
    expect(saving.state).toBe('saved');
    expect(saving.edited()).toBe(true); // saved -> unsynced
    saving.sent(1);
    expect(saving.edited()).toBe(false); // already unsynced
    saving.sent(2);
    expect(saving.acked(2)).toBe(true);
    expect(saving.state).toBe('saved');
    // An older ack arriving late changes nothing.
    expect(saving.acked(1)).toBe(false);
    expect(saving.changes).toEqual({ local: 2, acknowledged: 2 });
  });

  it('stays unsynced after a refusal, a dropped connection or an ack for edits before the latest', () => {
    const saving = new SaveTracker(false);
    saving.edited();
    saving.sent(1);
    saving.edited();
    expect(saving.acked(1)).toBe(false);
    expect(saving.state).toBe('unsynced');
    saving.sent(2);
    saving.refused(2);
    expect(saving.acked(2)).toBe(false);
    saving.sent(3);
    saving.dropped();
    expect(saving.acked(3)).toBe(false);
    expect(saving.changes).toEqual({ local: 2, acknowledged: 1 });
    // The next welcome's catch-up carries both; its ack settles them.
    saving.sent(4);
    expect(saving.acked(4)).toBe(true);
  });

  it('counts pending edits of a restored replica as one unsaved edit', () => {
    const saving = new SaveTracker(true);
    expect(saving.state).toBe('unsynced');
    saving.sent(1);
    expect(saving.acked(1)).toBe(true);
  });
});
