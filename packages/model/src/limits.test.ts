import { describe, expect, it, vi } from 'vitest';
import { MindMap } from './mind-map.ts';
import { replicasOf } from './test-replicas.ts';

vi.mock('./limits.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./limits.ts')>()),
  MAX_TOPICS: 8,
}));

describe('the topic cap (MAX_TOPICS, lowered to 8 here)', () => {
  it('refuses a local add past the cap', () => {
    const map = MindMap.create('cap');
    for (let i = 1; i < 8; i++) map.addTopic(map.centralTopicId());
    expect(map.topicCount()).toBe(8);
    expect(() => map.addTopic(map.centralTopicId())).toThrowError(
      expect.objectContaining({ code: 'limit-exceeded' }) as Error,
    );
  });

  it('refuses a merge that two replicas under the cap would take past it, and accepts one that stays under', () => {
    const origin = MindMap.create('cap');
    for (let i = 1; i < 6; i++) origin.addTopic(origin.centralTopicId());
    const [a, b, c] = replicasOf(origin, 3) as [MindMap, MindMap, MindMap];
    a.addTopic(a.centralTopicId());
    a.addTopic(a.centralTopicId());
    b.addTopic(b.centralTopicId());
    b.addTopic(b.centralTopicId());
    const fromB = b.exportUpdatesSince(a.versionVector());
    if (!fromB.ok) throw fromB.error;
    const refused = a.importUpdates(fromB.value);
    expect(refused).toMatchObject({ ok: false, error: { code: 'schema-violation' } });
    expect(refused.ok ? '' : refused.error.message).toContain('more than 8 topics');
    expect(a.topicCount()).toBe(8);
    expect(c.importUpdates(fromB.value).ok).toBe(true);
    expect(c.topicCount()).toBe(8);
  });
});
