// @vitest-environment happy-dom
import type { ReactElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { InvitationPage } from './InvitationPage.tsx';
import { click, fakeApi, fill, mount, settle, text } from './pageTesting.tsx';
import { SetupPage } from './SetupPage.tsx';

let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

async function render(node: (api: ReturnType<typeof fakeApi>['api']) => ReactElement, routes = {}) {
  const fake = fakeApi(routes);
  const mounted = mount(node(fake.api));
  unmount = mounted.unmount;
  await settle();
  return { ...fake, container: mounted.container };
}

async function fillOperator(container: HTMLElement) {
  fill(container, 'First name', 'Olive');
  fill(container, 'Last name', 'Operator');
  fill(container, 'Email', 'ops@example.com');
  fill(container, 'Password', 'correct horse');
  fill(container, 'Repeat password', 'correct horse');
}

describe('operator setup page', () => {
  it('creates the operator with the token of the one-time link', async () => {
    const account = { id: 'o1', email: 'ops@example.com', firstName: 'Olive', lastName: 'Operator' };
    const { container, sent } = await render((api) => <SetupPage api={api} token="tok-1" />, {
      'POST /setup/operator': { status: 201, body: { ...account, emailVerified: true } },
    });
    await fillOperator(container);
    await click(container, 'Create operator account');
    expect(sent[0]).toMatchObject({
      path: '/setup/operator',
      body: { token: 'tok-1', email: 'ops@example.com', password: 'correct horse', firstName: 'Olive' },
    });
    expect(text(container)).toContain('ops@example.com is the operator of this Canopy');
  });

  it('explains a used or expired link', async () => {
    const { container } = await render((api) => <SetupPage api={api} token="old" />, {
      'POST /setup/operator': { status: 400, body: { title: 'x', status: 400, code: 'invalid_token' } },
    });
    await fillOperator(container);
    await click(container, 'Create operator account');
    expect(container.querySelector('[role=alert]')!.textContent).toContain('used already, has expired');
  });

  it('cannot be submitted without a token', async () => {
    const { container } = await render((api) => <SetupPage api={api} token="" />);
    expect(text(container)).toContain('This link has no token.');
    expect(container.querySelector<HTMLButtonElement>('button[type=submit]')!.disabled).toBe(true);
  });
});

describe('invitation page', () => {
  it('joins the org once and switches to it', async () => {
    const { container, calls, api } = await render((api) => <InvitationPage api={api} token="org:t1" />, {
      'POST /invitations/accept': {
        status: 200,
        body: { id: 'team', name: 'Engines', personal: false, role: 'member' },
      },
    });
    expect(text(container)).toContain('You are now a member of Engines');
    await click(container, 'Open Engines');
    expect(api.org.get()).toBe('team');
    expect(window.location.pathname).toBe('/maps');
    expect(calls()).toEqual(['POST /invitations/accept']);
  });

  it('asks a signed-out person to sign in and come back', async () => {
    const { container } = await render((api) => <InvitationPage api={api} token="org:t2" />, {
      'POST /invitations/accept': { status: 401, body: { title: 'x', status: 401, code: 'unauthenticated' } },
    });
    const link = container.querySelector<HTMLAnchorElement>('a[href^="/sign-in"]')!;
    const next = new URL(link.getAttribute('href')!, 'http://x').searchParams.get('next');
    expect(next).toBe('/invitations/accept?token=org%3At2');
  });
});
