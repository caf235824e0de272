// Test helpers for the pages (happy-dom): a fake API server answering by method and path, and DOM steps by
// accessible label and button text, so tests read like what a person does.
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { createApiClient } from '../api/client.ts';
import type { UploadRequest, UploadTransport } from '../api/upload.ts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
type Handler = Reply | ((body: unknown) => Reply);

/**
 * An API whose server answers `"METHOD /path"` from `routes` (a list of replies is used in order, the last one
 * repeating), recording every request. Uploads (imports) go to `upload` with a scripted progress.
 */
export function fakeApi(routes: Record<string, Handler | Handler[]>, options: { org?: string } = {}) {
  const sent: { method: string; path: string; body: unknown; headers: Record<string, string> }[] = [];
  const uploads: UploadRequest[] = [];
  const answer = (key: string, body: unknown): Reply => {
    const route = routes[key];
    const handler = Array.isArray(route) ? (route.length > 1 ? route.shift() : route[0]) : route;
    if (!handler) return { status: 500, body: { title: `no route ${key}`, code: 'test_no_route' } };
    return typeof handler === 'function' ? handler(body) : handler;
  };
  const toResponse = (reply: Reply) =>
    new Response(reply.status === 204 ? null : JSON.stringify(reply.body ?? null), {
      status: reply.status,
      headers: {
        'content-type': reply.status >= 400 ? 'application/problem+json' : 'application/json',
        ...reply.headers,
      },
    });
  const upload: UploadTransport = async (request) => {
    uploads.push(request);
    request.onProgress?.(0.5);
    const path = new URL(request.url, 'http://x').pathname.replace('/api/v1', '');
    const reply = answer(`POST ${path}`, request.body);
    request.onProgress?.(1);
    return {
      status: reply.status,
      statusText: '',
      headers: new Headers({
        'content-type': reply.status >= 400 ? 'application/problem+json' : 'application/json',
      }),
      body: JSON.stringify(reply.body ?? null),
    };
  };
  let org: string | null = options.org ?? null;
  const api = createApiClient({
    baseUrl: '/api/v1',
    csrf: { get: () => 'csrf', set: () => undefined },
    org: { get: () => org, set: (id) => (org = id) },
    upload,
    fetch: async (input, init) => {
      const url = new URL(String(input), 'http://x');
      const method = init?.method ?? 'GET';
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      const path = url.pathname.replace('/api/v1', '') + url.search;
      sent.push({ method, path, body, headers: (init?.headers ?? {}) as Record<string, string> });
      return toResponse(answer(`${method} ${url.pathname.replace('/api/v1', '')}`, body));
    },
  });
  return { api, sent, uploads, calls: () => sent.map((s) => `${s.method} ${s.path}`) };
}

/** Mounts a React tree in a fresh container; `unmount` in afterEach. */
export function mount(node: ReactNode) {
  const container = document.createElement('div');
  document.body.append(container);
  const root: Root = createRoot(container);
  act(() => root.render(node));
  return {
    container,
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    },
  };
}

/** Lets fetch promises and the renders they cause settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
  }
}

export function fieldByLabel(container: HTMLElement, label: string): HTMLInputElement | HTMLSelectElement {
  const el = [...container.querySelectorAll('label')].find((l) => l.textContent?.trim() === label);
  const field = el ? container.ownerDocument.getElementById(el.htmlFor) : null;
  if (!field) throw new Error(`no field labelled ${label}`);
  return field as HTMLInputElement | HTMLSelectElement;
}

export function fill(container: HTMLElement, label: string, value: string): void {
  const field = fieldByLabel(container, label);
  const proto = field instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  // React tracks the value through the native setter.
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(field, value);
  field.dispatchEvent(new Event(field instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}

/** The button whose text (including visually hidden text) is `name`. */
export function button(container: HTMLElement, name: string | RegExp): HTMLButtonElement {
  const found = [...container.querySelectorAll('button')].find((b) => {
    const text = b.textContent?.replace(/\s+/g, ' ').trim() ?? '';
    return typeof name === 'string' ? text === name : name.test(text);
  });
  if (!found) throw new Error(`no button ${String(name)}`);
  return found;
}

export async function click(container: HTMLElement, name: string | RegExp): Promise<void> {
  const b = button(container, name);
  await act(async () => {
    if (b.type === 'submit' && b.form) b.form.requestSubmit(b);
    else b.click();
  });
  await settle();
}

export const text = (container: HTMLElement) => container.textContent?.replace(/\s+/g, ' ') ?? '';
