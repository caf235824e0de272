// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../api/client.ts';
import { ApiError } from '../api/problem.ts';
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

/** The page with its SRP sign-in replaced by a script (the protocol itself is tested in api/srpSignIn.test.ts). */
function scriptedSignIn(outcomes: ('ok' | string)[]) {
  const { api } = scriptedApi([]);
  const calls: { email: string; password: string; totp?: string }[] = [];
  const signIn = async (input: { email: string; password: string; totp?: string }) => {
    calls.push(input);
    const outcome = outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') {
      throw new ApiError({ type: 'about:blank', title: outcome, status: 401, code: outcome });
    }
    return { token: 't', expiresAt: 'x', account };
  };
  return { api: { ...api, sessions: { ...api.sessions, signIn } }, calls };
}

describe('sign-in page', () => {
  it('asks for the authenticator code when the server says mfa_required, then signs in with it', async () => {
    const { api, calls } = scriptedSignIn(['mfa_required', 'ok']);
    act(() => root.render(<SignInPage api={api} next="/maps/m1" />));
    fill('Email', 'ada@example.com');
    fill('Password', 'pw');
    await submit();
    // Not an error: a second step.
    expect(container.querySelector('[role=alert]')).toBeNull();
    expect(container.textContent).toContain('This account uses two-step sign-in.');
    fill('Authenticator code', '123 456');
    await submit();
    expect(calls).toEqual([
      { email: 'ada@example.com', password: 'pw' },
      { email: 'ada@example.com', password: 'pw', totp: '123456' },
    ]);
    expect(window.location.pathname).toBe('/maps/m1');
  });

  it('takes a recovery code instead, and says so when a code is wrong', async () => {
    const { api, calls } = scriptedSignIn(['mfa_required', 'invalid_totp', 'ok']);
    act(() => root.render(<SignInPage api={api} />));
    fill('Email', 'ada@example.com');
    fill('Password', 'pw');
    await submit();
    fill('Authenticator code', '000000');
    await submit();
    expect(container.querySelector('[role=alert]')!.textContent).toContain('That code is not right');
    const toggle = [...container.querySelectorAll('button')].find((b) =>
      b.textContent?.includes('recovery code'),
    );
    act(() => toggle!.click());
    fill('Recovery code', 'abcd-efgh');
    await submit();
    expect(calls[2]).toEqual({ email: 'ada@example.com', password: 'pw', totp: 'abcd-efgh' });
    expect(window.location.pathname).toBe('/maps');
  });

  it('shows wrong credentials in plain words with the code', async () => {
    const { api } = scriptedSignIn(['invalid_credentials']);
    act(() => root.render(<SignInPage api={api} />));
    fill('Email', 'ada@example.com');
    fill('Password', 'nope');
    await submit();
    const alert = container.querySelector('[role=alert]')!.textContent;
    expect(alert).toContain('That email and password do not match an account.');
    expect(alert).toContain('invalid_credentials');
    expect(window.location.pathname).toBe('/sign-in');
  });

  it('never follows a `next` that leaves the site', async () => {
    const { api } = scriptedSignIn(['ok']);
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
