// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import { EditorToolbar } from './EditorToolbar.tsx';
import { isTopicPanelOpen, setTopicPanelOpen, TOPIC_PANEL_ID } from './panel/panelVisibility.ts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

describe('EditorToolbar', () => {
  it('shows and hides the details panel with its Details button, and documents Alt+Enter', () => {
    setTopicPanelOpen(false);
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    const noop = () => undefined;
    act(() =>
      root.render(
        <EditorToolbar
          kind="map"
          zoomPercent={100}
          canUndo={false}
          canRedo={false}
          onKind={noop}
          onZoom={noop}
          onUndo={noop}
          onRedo={noop}
        />,
      ),
    );
    const details = [...container.querySelectorAll('button')].find((b) => b.textContent === 'Details')!;
    expect(details.getAttribute('aria-controls')).toBe(TOPIC_PANEL_ID);
    expect(details.getAttribute('aria-keyshortcuts')).toBe('Alt+Enter');
    expect(details.getAttribute('aria-pressed')).toBe('false');
    act(() => details.click());
    expect(isTopicPanelOpen()).toBe(true);
    expect(details.getAttribute('aria-pressed')).toBe('true');
    act(() => details.click());
    expect(isTopicPanelOpen()).toBe(false);
    expect(container.querySelector('.shortcuts')!.textContent).toContain('Alt+Enter');
    act(() => root.unmount());
  });
});
