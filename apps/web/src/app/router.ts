import { useSyncExternalStore } from 'react';

/** The app's pages and their paths. Parsing and building live together so links cannot drift from routes. */
export type Route =
  | { page: 'sign-in'; next?: string }
  | { page: 'sign-up' }
  | { page: 'verify'; token: string }
  | { page: 'forgot-password' }
  | { page: 'reset-password'; token: string }
  | { page: 'maps' }
  | { page: 'editor'; mapId: string }
  | { page: 'demo'; topics: number }
  | { page: 'settings' }
  | { page: 'setup'; token: string }
  | { page: 'invitation'; token: string }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  const path = pathname.replace(/\/+$/, '') || '/';
  switch (path) {
    case '/':
    case '/maps':
      return { page: 'maps' };
    case '/sign-in': {
      const next = query.get('next');
      return next ? { page: 'sign-in', next } : { page: 'sign-in' };
    }
    case '/sign-up':
      return { page: 'sign-up' };
    case '/verify':
    case '/verify-email': // the path in the server's verification mail
      return { page: 'verify', token: query.get('token') ?? '' };
    case '/forgot-password':
      return { page: 'forgot-password' };
    case '/reset-password':
      return { page: 'reset-password', token: query.get('token') ?? '' };
    case '/settings':
      return { page: 'settings' };
    case '/setup': // the operator's one-time link, printed at the server's first start
      return { page: 'setup', token: query.get('token') ?? '' };
    case '/invitations/accept': // the link in an org invitation mail
      return { page: 'invitation', token: query.get('token') ?? '' };
    case '/demo': {
      const topics = Number(query.get('topics') ?? '200');
      return {
        page: 'demo',
        topics: Number.isFinite(topics) ? Math.max(1, Math.min(50_000, Math.trunc(topics))) : 200,
      };
    }
  }
  const editor = /^\/maps\/([^/]+)$/.exec(path);
  if (editor) return { page: 'editor', mapId: decodeURIComponent(editor[1]!) };
  return { page: 'not-found', path };
}

export function hrefFor(route: Route): string {
  switch (route.page) {
    case 'sign-in':
      return route.next ? `/sign-in?next=${encodeURIComponent(route.next)}` : '/sign-in';
    case 'verify':
      return `/verify?token=${encodeURIComponent(route.token)}`;
    case 'reset-password':
      return `/reset-password?token=${encodeURIComponent(route.token)}`;
    case 'setup':
      return `/setup?token=${encodeURIComponent(route.token)}`;
    case 'invitation':
      return `/invitations/accept?token=${encodeURIComponent(route.token)}`;
    case 'editor':
      return `/maps/${encodeURIComponent(route.mapId)}`;
    case 'demo':
      return `/demo?topics=${route.topics}`;
    case 'not-found':
      return route.path;
    default:
      return `/${route.page}`;
  }
}

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
let snapshot = '';
function locationKey(): string {
  const key = window.location.pathname + window.location.search;
  if (key !== snapshot) snapshot = key;
  return snapshot;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

export function navigate(route: Route | string, options: { replace?: boolean } = {}): void {
  const href = typeof route === 'string' ? route : hrefFor(route);
  if (options.replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  notify();
}

/** The current route; re-renders on navigation and on the browser's back/forward. */
export function useRoute(): Route {
  const key = useSyncExternalStore(subscribe, locationKey);
  const q = key.indexOf('?');
  return parseRoute(q < 0 ? key : key.slice(0, q), q < 0 ? '' : key.slice(q));
}
