import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { main } from '../../cli.ts';
import { describeEachDialect } from '../../platform/db/testing.ts';

describeEachDialect('canopy licenses (CLI)', (h) => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  });
  afterEach(() => vi.restoreAllMocks());
  const canopy = (...args: string[]) =>
    main(args, { CANOPY_DATABASE_URL: h.url, CANOPY_LOG_LEVEL: 'silent', CANOPY_DATA_DIR: '/tmp' });

  it('issues, lists, suspends, reinstates and extends a licence', async () => {
    expect(
      await canopy(
        'licenses',
        'issue',
        '--org',
        'cli-org',
        '--products',
        'desktop-mac,reader',
        '--seats',
        '7',
        '--expires',
        '2030-01-01',
      ),
    ).toBe(0);
    const id = /issued (\S+)/.exec(out.join('\n'))?.[1];
    const key = /key (CNPY-\S+)/.exec(out.join('\n'))?.[1];
    expect(id && key).toBeTruthy();

    out = [];
    expect(await canopy('licenses', 'list', '--org', 'cli-org', '--json')).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject([
      {
        id,
        key,
        orgId: 'cli-org',
        seats: 7,
        usedSeats: 0,
        products: ['desktop-mac', 'reader'],
        status: 'active',
        expiresAt: '2030-01-01T00:00:00.000Z',
      },
    ]);

    out = [];
    expect(await canopy('licenses', 'suspend', key!)).toBe(0);
    expect(out.join('')).toContain('\tsuspended\t');
    expect(await canopy('licenses', 'reinstate', id!)).toBe(0);
    out = [];
    expect(await canopy('licenses', 'extend', id!, '--until', '2031-06-30')).toBe(0);
    expect(out.join('')).toContain('2031-06-30T00:00:00.000Z');
    expect(out.join('')).toContain('\tactive\t');
    out = [];
    expect(await canopy('licenses', 'extend', id!, '--never')).toBe(0);
    expect(out.join('')).toMatch(/\tnever$/);
  });

  it('explains what is wrong instead of issuing', async () => {
    expect(await canopy('licenses', 'issue', '--org', 'x', '--products', 'holodeck', '--seats', '1')).toBe(1);
    expect(err.join('\n')).toContain('unknown_product');
    expect(await canopy('licenses', 'issue', '--org', 'x')).toBe(2);
    expect(await canopy('licenses', 'suspend', 'CNPY-NOPE')).toBe(1);
    expect(err.join('\n')).toContain('not_found');
  });
});
