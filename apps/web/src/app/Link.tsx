import type { MouseEvent, ReactNode } from 'react';
import { hrefFor, navigate, type Route } from './router.ts';

/** An ordinary link (so it opens in a new tab too) that navigates in-app on a plain click. */
export function Link({ to, children, className }: { to: Route; children: ReactNode; className?: string }) {
  const href = hrefFor(to);
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} className={className}>
      {children}
    </a>
  );
}
