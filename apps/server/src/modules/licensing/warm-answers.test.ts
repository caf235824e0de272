import { describe, expect, it } from 'vitest';
import type { LicensingCaller } from './ports.ts';
import { WarmAnswers, type WarmAnswer } from './warm-answers.ts';

const caller = (accountId: string, org = 'org-1'): LicensingCaller => ({
  accountId,
  email: `${accountId}@example.com`,
  emailVerified: true,
  operator: false,
  orgs: new Map([[org, 'member']]),
});

const answer = (token: string): WarmAnswer => ({
  reply: { valid: true, code: 'VALID', detail: 'The licence is valid.', token },
  tokenHash: `hash-${token}`,
  until: 10_000,
});

describe('warm answers', () => {
  it('are kept per caller (as the caller port describes it), product and machine', () => {
    const answers = new WarmAnswers(100);
    const ada = caller('ada');
    answers.set(ada, { product: 'desktop-mac', fingerprint: 'pc-1' }, answer('a'), 0);
    expect(answers.fresh(ada, { product: 'desktop-mac', fingerprint: 'pc-1' }, 1)?.reply.token).toBe('a');
    // The same person described anew (another caller object, same facts) finds it too.
    expect(answers.fresh(caller('ada'), { product: 'desktop-mac', fingerprint: 'pc-1' }, 1)).toBeDefined();
    expect(
      answers.fresh(caller('ada', 'org-2'), { product: 'desktop-mac', fingerprint: 'pc-1' }, 1),
    ).toBeUndefined();
    expect(answers.fresh(caller('bob'), { product: 'desktop-mac', fingerprint: 'pc-1' }, 1)).toBeUndefined();
    expect(answers.fresh(ada, { product: 'desktop-mac', fingerprint: 'pc-2' }, 1)).toBeUndefined();
    expect(answers.fresh(ada, { product: 'desktop-mac' }, 1)).toBeUndefined();
    expect(answers.fresh(ada, { product: 'mobile', fingerprint: 'pc-1' }, 1)).toBeUndefined();
    expect(answers.fresh(ada, { product: 'desktop-mac', fingerprint: 'pc-1' }, 10_000)).toBeUndefined();
  });

  it('never mistakes a product with a newline for a product and a machine', () => {
    const answers = new WarmAnswers(100);
    const ada = caller('ada');
    answers.set(ada, { product: 'desktop-mac', fingerprint: 'pc-1' }, answer('a'), 0);
    expect(answers.fresh(ada, { product: 'desktop-mac\npc-1' }, 1)).toBeUndefined();
  });

  it('keeps at most 64 machines per caller, forgetting the oldest first', () => {
    const answers = new WarmAnswers(100);
    const ada = caller('ada');
    for (let i = 0; i <= 64; i++)
      answers.set(ada, { product: 'mobile', fingerprint: `m${i}` }, answer(`t${i}`), 0);
    expect(answers.fresh(ada, { product: 'mobile', fingerprint: 'm0' }, 1)).toBeUndefined();
    expect(answers.fresh(ada, { product: 'mobile', fingerprint: 'm1' }, 1)?.reply.token).toBe('t1');
    expect(answers.fresh(ada, { product: 'mobile', fingerprint: 'm64' }, 1)?.reply.token).toBe('t64');
  });
});
