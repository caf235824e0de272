// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../api/client.ts';
import { SignInPage, SignUpPage } from './AuthPages.tsx';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

type Reply = { status: number; body: unknown };

/** An API client whose server answers each request with the next reply, recording what was sent. */
function scriptedApi(replies: Reply[]) {
  const sent: { method: string; url: string; body: unknown }[] = [];
  const api = createApiClient({
    baseUrl: '/api/v1',
    csrf: { get: () => null, set: () => undefined },
    fetch: async (input, init) => {
      sent.push({
        method: init?.method ?? 'GET',
        url: String(input),
        body: JSON.parse(String(init?.body ?? 'null')),
      });
      const reply = replies.shift() ?? { status: 500, body: { title: 'no more replies', code: 'test' } };
      const type = reply.status >= 400 ? 'application/problem+json' : 'application/json';
      return new Response(JSON.stringify(reply.body), {
        status: reply.status,
        headers: { 'content-type': type },
      });
    },
  });
  return { api, sent };
}

let container: HTMLDivElement;
let root: Root;
beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
  window.history.replaceState(null, '', '/sign-in');
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

function fill(label: string, value: string) {
  const input = [...container.querySelectorAll('label')].find((l) => l.textContent === label);
  const field = container.querySelector<HTMLInputElement>(`#${input?.htmlFor ?? 'missing'}`);
  if (!field) throw new Error(`no field labelled ${label}`);
  // React tracks the value through the native setter.
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(field, value);
  field.dispatchEvent(new Event('input', { bubbles: true }));
}

async function submit() {
  await act(async () => {
    container.querySelector('form')!.requestSubmit();
  });
  // Let the fetch promise chain settle.
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

const account = { id: 'a', email: 'ada@example.com', firstName: 'Ada', lastName: 'L', emailVerified: true };

describe('sign-in page', () => {
  it('asks for the authenticator code when the server says mfa_required, then signs in', async () => {
    const { api, sent } = scriptedApi([
      { status: 401, body: { title: 'MFA required', status: 401, code: 'mfa_required' } },
      { status: 201, body: { token: 't', expiresAt: 'x', account, csrfToken: 'c' } },
    ]);
    act(() => root.render(<SignInPage api={api} next="/maps/m1" />));
    fill('Email', 'ada@example.com');
    fill('Password', 'pw');
    await submit();
    expect(container.querySelector('[role=alert]')?.textContent).toContain(
      'Enter the code from your authenticator app.',
    );
    fill('Authenticator code', '123456');
    await submit();
    expect(sent.map((s) => s.body)).toEqual([
      { email: 'ada@example.com', password: 'pw' },
      { email: 'ada@example.com', password: 'pw', totp: '123456' },
    ]);
    expect(window.location.pathname).toBe('/maps/m1');
  });

  it('never follows a `next` that leaves the site', async () => {
    const { api } = scriptedApi([{ status: 201, body: { token: 't', expiresAt: 'x', account } }]);
    act(() => root.render(<SignInPage api={api} next="//evil.example/x" />));
    fill('Email', 'ada@example.com');
    fill('Password', 'pw');
    await submit();
    expect(window.location.pathname).toBe('/maps');
  });
});

describe('sign-up page', () => {
  it('shows field errors from a validation problem', async () => {
    const { api } = scriptedApi([
      {
        status: 400,
        body: {
          title: 'Invalid request',
          status: 400,
          code: 'validation_failed',
          errors: [{ path: '/email', message: 'must match format "email"' }],
        },
      },
    ]);
    act(() => root.render(<SignUpPage api={api} />));
    fill('First name', 'Ada');
    fill('Last name', 'Lovelace');
    // Passes the browser's own email check (the form validates before sending), not the server's.
    fill('Email', 'ada@localhost');
    fill('Password', 'correct horse');
    fill('Repeat password', 'correct horse');
    await submit();
    const alert = container.querySelector('[role=alert]')!.textContent;
    expect(alert).toContain('Invalid request');
    expect(alert).toContain('email: must match format "email"');
    expect(alert).toContain('validation_failed');
  });

  it('says so when the email is taken, and shows the check-your-email step on success', async () => {
    const { api } = scriptedApi([
      { status: 409, body: { title: 'Conflict', status: 409, code: 'email_taken' } },
      { status: 201, body: { ...account, emailVerified: false } },
    ]);
    act(() => root.render(<SignUpPage api={api} />));
    fill('First name', 'Ada');
    fill('Last name', 'Lovelace');
    fill('Email', 'ada@example.com');
    fill('Password', 'correct horse');
    fill('Repeat password', 'correct horse');
    await submit();
    expect(container.querySelector('[role=alert]')!.textContent).toContain('already exists');
    await submit();
    expect(container.textContent).toContain('Check your email');
  });

  it('lets the browser refuse an incomplete form without calling the server', async () => {
    const { api, sent } = scriptedApi([]);
    act(() => root.render(<SignUpPage api={api} />));
    fill('Email', 'not an email');
    await submit();
    expect(sent).toEqual([]);
  });

  it('checks that the passwords match before calling the server', async () => {
    const { api, sent } = scriptedApi([]);
    act(() => root.render(<SignUpPage api={api} />));
    fill('First name', 'Ada');
    fill('Last name', 'Lovelace');
    fill('Email', 'ada@example.com');
    fill('Password', 'one password');
    fill('Repeat password', 'another one');
    await submit();
    expect(container.querySelector('[role=alert]')!.textContent).toContain('do not match');
    expect(sent).toEqual([]);
  });
});
