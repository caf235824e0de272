import { describe, expect, it } from 'vitest';
import { hrefFor, parseRoute, type Route } from './router.ts';

describe('router', () => {
  it.each<[string, string, Route]>([
    ['/', '', { page: 'maps' }],
    ['/maps/', '', { page: 'maps' }],
    ['/sign-in', '?next=%2Fmaps%2Fm1', { page: 'sign-in', next: '/maps/m1' }],
    ['/sign-up', '', { page: 'sign-up' }],
    ['/verify', '?token=abc', { page: 'verify', token: 'abc' }],
    ['/forgot-password', '', { page: 'forgot-password' }],
    ['/reset-password', '?token=t%2B1', { page: 'reset-password', token: 't+1' }],
    ['/maps/m%201', '', { page: 'editor', mapId: 'm 1' }],
    ['/settings', '', { page: 'settings' }],
    // The paths of the links in the server's mails and its first-start log line.
    ['/verify-email', '?token=v1', { page: 'verify', token: 'v1' }],
    ['/setup', '?token=s1', { page: 'setup', token: 's1' }],
    ['/invitations/accept', '?token=org%3Ai1', { page: 'invitation', token: 'org:i1' }],
    ['/demo', '?topics=10000', { page: 'demo', topics: 10000 }],
    ['/nope', '', { page: 'not-found', path: '/nope' }],
  ])('parses %s%s', (path, search, route) => {
    expect(parseRoute(path, search)).toEqual(route);
  });

  it('builds the links it parses', () => {
    const routes: Route[] = [
      { page: 'sign-in', next: '/maps/x?y' },
      { page: 'verify', token: 'a/b' },
      { page: 'editor', mapId: 'id/with slash' },
      { page: 'demo', topics: 1000 },
      { page: 'settings' },
      { page: 'setup', token: 'x y' },
      { page: 'invitation', token: 'org:tok' },
    ];
    for (const route of routes) {
      const href = new URL(hrefFor(route), 'http://localhost');
      expect(parseRoute(href.pathname, href.search)).toEqual(route);
    }
  });

  it('bounds the demo size', () => {
    expect(parseRoute('/demo', '?topics=1e9')).toEqual({ page: 'demo', topics: 50000 });
    expect(parseRoute('/demo', '?topics=abc')).toEqual({ page: 'demo', topics: 200 });
  });
});
