import type { ReactNode } from 'react';
import { Link } from './Link.tsx';

export function AppLayout({
  children,
  current,
}: {
  children: ReactNode;
  current: 'maps' | 'settings' | 'other';
}) {
  return (
    <div className="app-layout">
      <header className="app-header">
        <Link to={{ page: 'maps' }} className="brand">
          Canopy
        </Link>
        <nav aria-label="Main">
          <ul>
            <li aria-current={current === 'maps' ? 'page' : undefined}>
              <Link to={{ page: 'maps' }}>Maps</Link>
            </li>
            <li>
              <Link to={{ page: 'demo', topics: 200 }}>Demo map</Link>
            </li>
            <li aria-current={current === 'settings' ? 'page' : undefined}>
              <Link to={{ page: 'settings' }}>Settings</Link>
            </li>
          </ul>
        </nav>
      </header>
      <main className="app-main">{children}</main>
    </div>
  );
}
