// @vitest-environment jsdom
// jsdom, not happy-dom: DOMPurify misreads happy-dom's nodes (it keeps <script> and drops <p> there).
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryEditorStore } from '../store/memoryEditorStore.ts';
import { docFrom } from '../testing/fixtures.ts';
import type { ImageUploader } from './ImageSection.tsx';
import { NOTES_SAVE_DELAY_MS } from './NotesEditor.tsx';
import { setTopicPanelOpen } from './panelVisibility.ts';
import { TopicSidePanel } from './TopicSidePanel.tsx';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;
let store: MemoryEditorStore;
const selected: string[] = [];

function render(topicId = 'A', readOnly = false, uploadImage?: ImageUploader) {
  act(() =>
    root.render(
      <TopicSidePanel
        store={store}
        topicId={topicId}
        readOnly={readOnly}
        onSelectTopic={(id) => selected.push(id)}
        {...(uploadImage ? { uploadImage } : {})}
      />,
    ),
  );
}

const topic = (id: string) => {
  const find = (t: ReturnType<typeof store.getDocument>['root']): typeof t | undefined =>
    t.id === id ? t : t.children.map(find).find(Boolean);
  return find(store.getDocument().root)!;
};
const q = <T extends Element = HTMLElement>(selector: string) => container.querySelector<T>(selector)!;
const byLabel = <T extends HTMLElement = HTMLInputElement>(label: string) =>
  container.querySelector<T>(`[aria-label="${label}"]`) ??
  (container.ownerDocument.getElementById(
    [...container.querySelectorAll('label')].find((l) => l.textContent === label)?.htmlFor ?? '',
  ) as T);
const button = (name: string) =>
  [...container.querySelectorAll('button')].find(
    (b) => b.getAttribute('aria-label') === name || b.textContent === name,
  )!;

/** Types into a React-controlled input the way the browser does: the native setter, then an input event. */
function type(input: HTMLInputElement | HTMLSelectElement, value: string) {
  const proto = input instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  act(() => {
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
    input.dispatchEvent(
      new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }),
    );
  });
}
const click = (el: HTMLElement) => act(() => el.click());
const press = (el: HTMLElement, key: string, init: KeyboardEventInit = {}) =>
  act(() => {
    el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
  });

/** Writes into the notes field as the contentEditable would, then lets the typing pause end. */
function writeNote(html: string) {
  const field = byLabel('Notes');
  act(() => {
    field.innerHTML = html;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  });
  act(() => vi.advanceTimersByTime(NOTES_SAVE_DELAY_MS));
}

beforeEach(() => {
  vi.useFakeTimers();
  setTopicPanelOpen(true);
  selected.length = 0;
  store = new MemoryEditorStore(docFrom(['Root', ['A', ['A1']], ['B']]));
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  vi.useRealTimers();
});

describe('TopicSidePanel notes', () => {
  it('saves a note sanitised: no <script>, no on* attributes, no javascript: links', () => {
    render();
    writeNote(
      '<p onclick="alert(1)">Hello <b>world</b><script>alert(2)</script> ' +
        '<a href="javascript:alert(3)">bad</a> <a href="https://example.com">good</a></p>',
    );
    expect(topic('A').notesHtml).toBe('<p>Hello <b>world</b> bad <a href="https://example.com">good</a></p>');
  });

  it('makes one undo step of a burst of typing, and undo shows the previous note again', () => {
    render();
    const field = byLabel('Notes');
    for (const text of ['H', 'He', 'Hel', 'Hello']) {
      act(() => {
        field.innerHTML = `<p>${text}</p>`;
        field.dispatchEvent(new Event('input', { bubbles: true }));
      });
      act(() => vi.advanceTimersByTime(NOTES_SAVE_DELAY_MS / 2));
    }
    act(() => vi.advanceTimersByTime(NOTES_SAVE_DELAY_MS));
    expect(topic('A').notesHtml).toBe('<p>Hello</p>');
    writeNote('<p>Hello again</p>');
    act(() => store.undo());
    expect(topic('A').notesHtml).toBe('<p>Hello</p>');
    expect(field.innerHTML).toBe('<p>Hello</p>');
    act(() => store.undo());
    expect(topic('A').notesHtml).toBeUndefined();
    expect(field.innerHTML).toBe('');
  });

  it('saves typing to the topic it was typed in when the selection moves before the pause ends', () => {
    render('A');
    act(() => {
      byLabel('Notes').innerHTML = 'for A';
      byLabel('Notes').dispatchEvent(new Event('input', { bubbles: true }));
    });
    render('B');
    expect(topic('A').notesHtml).toBe('for A');
    expect(topic('B').notesHtml).toBeUndefined();
    expect(byLabel('Notes').textContent).toBe('');
  });

  it('shows a stored note sanitised, links opening in a new tab without an opener', () => {
    act(() =>
      store.setTopicDetails('A', {
        notesHtml: '<p><img src=x onerror="alert(1)">x<a href="https://e.org">e</a></p><script>1</script>',
      }),
    );
    render();
    const field = byLabel('Notes');
    expect(field.querySelector('img, script, [onerror]')).toBeNull();
    expect(field.querySelector('a')!.getAttribute('rel')).toBe('noopener noreferrer');
    expect(field.querySelector('a')!.getAttribute('target')).toBe('_blank');
  });
});

describe('TopicSidePanel links, markers, task and tags', () => {
  it('adds a web link, refusing javascript: URLs; removes it; each change one undo step', () => {
    render();
    type(byLabel('Address'), 'javascript:alert(1)');
    click(button('Add link'));
    expect(q('[role="alert"]').textContent).toMatch(/http, https and mailto/);
    expect(topic('A').links).toBeUndefined();
    type(byLabel('Address'), 'example.com/docs');
    click(button('Add link'));
    expect(topic('A').links).toEqual([{ kind: 'url', url: 'https://example.com/docs' }]);
    const anchor = q<HTMLAnchorElement>('.links-section a');
    expect(anchor.rel).toBe('noopener noreferrer');
    expect(anchor.target).toBe('_blank');
    click(button('Remove link https://example.com/docs'));
    expect(topic('A').links).toBeUndefined();
    act(() => store.undo());
    expect(topic('A').links).toHaveLength(1);
  });

  it('links to another topic found by its text, and follows the link', () => {
    render();
    click(button('Topic'));
    type(byLabel('Find a topic'), 'b');
    click(button('Link to “B”'));
    expect(topic('A').links).toEqual([{ kind: 'topic', topicId: 'B' }]);
    click(button('→ B'));
    expect(selected).toEqual(['B']);
  });

  it('toggles markers from the catalogue the renderer draws', () => {
    render();
    click(button('Red flag'));
    click(button('Done'));
    expect(topic('A').icons).toEqual(['flag-red', 'check']);
    expect(button('Red flag').getAttribute('aria-pressed')).toBe('true');
    click(button('Remove marker Red flag'));
    expect(topic('A').icons).toEqual(['check']);
    click(button('Done'));
    expect(topic('A').icons).toBeUndefined();
  });

  it('edits the task: priority at once, progress and dates when the field is left', () => {
    render();
    type(byLabel<HTMLSelectElement>('Priority') as unknown as HTMLInputElement, '2');
    expect(topic('A').task).toEqual({ priority: 2 });
    const progress = byLabel('Progress (%)');
    type(progress, '7');
    type(progress, '75');
    expect(topic('A').task).toEqual({ priority: 2 });
    act(() => progress.dispatchEvent(new FocusEvent('focusout', { bubbles: true })));
    expect(topic('A').task).toEqual({ priority: 2, progress: 75 });
    const due = byLabel('Due');
    type(due, '2026-12-24');
    press(due, 'Enter');
    expect(topic('A').task?.dueDate).toBe('2026-12-24T00:00:00Z');
    act(() => store.undo());
    act(() => store.undo());
    expect(topic('A').task).toEqual({ priority: 2 });
    click(button('Clear task info'));
    expect(topic('A').task).toBeUndefined();
  });

  it('saves a typed progress to its own topic when the selection moves before the field is left', () => {
    render('A');
    type(byLabel('Progress (%)'), '40');
    render('B');
    expect(topic('A').task).toEqual({ progress: 40 });
    expect(topic('B').task).toBeUndefined();
    expect(byLabel('Progress (%)').value).toBe('');
  });

  it('adds tags as chips (comma-separated too) and removes them', () => {
    render();
    const input = byLabel('Add tag');
    type(input, 'urgent');
    press(input, 'Enter');
    type(input, 'q3, urgent , team');
    click(input.nextElementSibling as HTMLButtonElement);
    expect(topic('A').tags).toEqual(['urgent', 'q3', 'team']);
    click(button('Remove tag q3'));
    expect(topic('A').tags).toEqual(['urgent', 'team']);
    act(() => store.undo());
    expect(topic('A').tags).toEqual(['urgent', 'q3', 'team']);
  });
});

describe('TopicSidePanel image', () => {
  /** Picks `file` in the Image section's file input, as the browser's file dialog would. */
  async function pick(file: File) {
    const input = byLabel('Add an image') ?? byLabel('Replace the image');
    await act(async () => {
      Object.defineProperty(input, 'files', { value: [file], configurable: true });
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }
  const png = new File([new Uint8Array([137, 80, 78, 71])], 'photo.png', { type: 'image/png' });

  it('stores a chosen image and puts it on the topic; removes it; each one undo step', async () => {
    const uploads: File[] = [];
    render('A', false, async (file) => {
      uploads.push(file);
      return { ref: 'sha256:' + 'a'.repeat(64), mimeType: file.type, size: file.size };
    });
    expect(container.textContent).toContain('No image.');
    await pick(png);
    expect(uploads).toEqual([png]);
    expect(topic('A').image).toEqual({ ref: 'sha256:' + 'a'.repeat(64), mimeType: 'image/png', size: 4 });
    expect(container.textContent).toContain('PNG image');
    click(button('Remove image'));
    expect(topic('A').image).toBeUndefined();
    act(() => store.undo());
    expect(topic('A').image?.ref).toBe('sha256:' + 'a'.repeat(64));
  });

  it('refuses what is not a PNG, JPEG, GIF or WebP image, and says why an upload failed', async () => {
    let calls = 0;
    render('A', false, async () => {
      calls++;
      throw new Error('The request body is too large.');
    });
    await pick(new File(['<svg/>'], 'x.svg', { type: 'image/svg+xml' }));
    expect(calls).toBe(0);
    expect(q('[role="alert"]').textContent).toMatch(/PNG, JPEG, GIF or WebP/);
    await pick(png);
    expect(calls).toBe(1);
    expect(q('[role="alert"]').textContent).toMatch(/could not be added: The request body is too large/);
    expect(topic('A').image).toBeUndefined();
  });

  it('offers no file picker where the map has no server, and none to viewers', () => {
    render('A');
    expect(container.querySelector('input[type="file"]')).toBeNull();
    expect(container.textContent).toContain('Images can be added to maps stored on the server.');
    render('A', true, async () => ({ ref: 'sha256:' + 'b'.repeat(64), mimeType: 'image/png', size: 1 }));
    expect(container.querySelector<HTMLInputElement>('input[type="file"]')?.disabled).toBe(true);
  });
});

describe('TopicSidePanel read-only and visibility', () => {
  it('disables every control and the notes field for viewers', () => {
    act(() => store.setTopicDetails('A', { tags: ['x'], links: [{ kind: 'topic', topicId: 'B' }] }));
    render('A', true);
    const controls = [...container.querySelectorAll<HTMLInputElement>('input, select, button')].filter(
      (el) => !el.closest('[disabled]') && !el.disabled,
    );
    // Only closing the panel and following a topic link stay available.
    expect(controls.map((el) => el.getAttribute('aria-label') ?? el.textContent)).toEqual([
      'Close details (Alt+Enter)',
      '→ B',
    ]);
    expect(byLabel('Notes').getAttribute('contenteditable')).toBe('false');
    expect(container.textContent).toContain('View only');
  });

  it('hides and shows with Alt+Enter, and with its close button', () => {
    render();
    const panel = q('.topic-panel');
    press(document.body, 'Enter', { altKey: true });
    expect(panel.hidden).toBe(true);
    expect(byLabel('Notes')).toBeNull();
    press(document.body, 'Enter', { altKey: true });
    expect(panel.hidden).toBe(false);
    expect(document.activeElement).toBe(panel);
    click(button('Close details (Alt+Enter)'));
    expect(panel.hidden).toBe(true);
  });
});

describe('TopicSidePanel reveal (a badge clicked on the canvas)', () => {
  it('scrolls to the section the badge stands for, for that topic only', () => {
    const scrolled: string[] = [];
    // jsdom has no scrollIntoView: this stands in for the browser's.
    Element.prototype.scrollIntoView = function (this: Element) {
      scrolled.push(this.getAttribute('data-section') ?? '');
    };
    act(() =>
      root.render(<TopicSidePanel store={store} topicId="A" reveal={{ topicId: 'A', section: 'tags' }} />),
    );
    expect(scrolled).toEqual(['tags']);
    // A reveal meant for another topic does nothing here.
    act(() =>
      root.render(<TopicSidePanel store={store} topicId="B" reveal={{ topicId: 'A', section: 'task' }} />),
    );
    expect(scrolled).toEqual(['tags']);
    delete (Element.prototype as Partial<Element>).scrollIntoView;
  });
});
