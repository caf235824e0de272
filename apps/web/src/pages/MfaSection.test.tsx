// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { MfaSection } from './MfaSection.tsx';
import { click, fakeApi, fill, mount, settle, text } from './pageTesting.tsx';

const enrollment = {
  secret: 'JBSWY3DPEHPK3PXP',
  otpauthUrl: 'otpauth://totp/Canopy:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Canopy',
};
const reauthNeeded = {
  status: 401,
  body: { title: 'x', status: 401, code: 'reauthentication_required' },
};

let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

async function section(routes: Parameters<typeof fakeApi>[0], enabled = false) {
  const fake = fakeApi(routes);
  let changed = 0;
  const mounted = mount(<MfaSection api={fake.api} enabled={enabled} onChanged={() => (changed += 1)} />);
  unmount = mounted.unmount;
  await settle();
  return { ...fake, container: mounted.container, changed: () => changed };
}

describe('two-step sign-in settings', () => {
  it('shows the key and the otpauth URI, confirms a code, then shows the recovery codes once', async () => {
    const { container, sent, changed } = await section({
      'POST /me/mfa/totp': { status: 200, body: enrollment },
      'POST /me/mfa/totp/confirm': { status: 200, body: { recoveryCodes: ['aaaa-bbbb', 'cccc-dddd'] } },
    });
    await click(container, 'Set up an authenticator app');
    expect(container.querySelector('[aria-label="Secret key"]')!.textContent).toBe(enrollment.secret);
    expect(container.querySelector('[data-testid=otpauth-uri]')!.textContent).toBe(enrollment.otpauthUrl);
    expect(container.querySelector<HTMLAnchorElement>(`a[href^="otpauth:"]`)!.href).toBe(
      enrollment.otpauthUrl,
    );
    // The URI as a QR code: an SVG in a data: image (the CSP allows img-src data:), named for screen readers.
    await settle();
    const qr = container.querySelector<HTMLImageElement>('img.otpauth-qr')!;
    expect(qr.alt).toMatch(/QR code of the setup link/);
    expect(qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,/);
    expect(decodeURIComponent(qr.getAttribute('src')!.split(',')[1]!)).toMatch(/^<svg[^>]*viewBox/);
    fill(container, 'Code from the app', '123 456');
    await click(container, 'Turn on');
    expect(sent.at(-1)).toMatchObject({ path: '/me/mfa/totp/confirm', body: { code: '123456' } });
    expect(text(container)).toContain('aaaa-bbbb');
    expect(text(container)).toContain('shown only now');
    await click(container, 'I have saved them');
    expect(text(container)).not.toContain('aaaa-bbbb');
    expect(changed()).toBe(1);
  });

  it('asks for the password when the server wants a recent proof, then carries on', async () => {
    const { container, calls, sent } = await section({
      'POST /me/mfa/totp': [reauthNeeded, { status: 200, body: enrollment }],
      'POST /sessions/current/reauth': { status: 200, body: { reauthenticatedUntil: 'x' } },
    });
    await click(container, 'Set up an authenticator app');
    expect(text(container)).toContain('confirm it is you');
    fill(container, 'Your password', 'correct horse');
    await click(container, 'Confirm');
    expect(sent.find((s) => s.path === '/sessions/current/reauth')!.body).toEqual({
      password: 'correct horse',
    });
    expect(calls()).toEqual(['POST /me/mfa/totp', 'POST /sessions/current/reauth', 'POST /me/mfa/totp']);
    expect(container.querySelector('[aria-label="Secret key"]')!.textContent).toBe(enrollment.secret);
  });

  it('says so when the code is wrong', async () => {
    const { container } = await section({
      'POST /me/mfa/totp': { status: 200, body: enrollment },
      'POST /me/mfa/totp/confirm': { status: 401, body: { title: 'x', status: 401, code: 'invalid_totp' } },
    });
    await click(container, 'Set up an authenticator app');
    fill(container, 'Code from the app', '000000');
    await click(container, 'Turn on');
    expect(container.querySelector('[role=alert]')!.textContent).toContain('That code is not right');
  });

  it('turns two-step sign-in off after a confirmation, with the password and a code', async () => {
    const { container, calls, sent, changed } = await section(
      {
        'DELETE /me/mfa/totp': [reauthNeeded, { status: 204 }],
        'POST /sessions/current/reauth': { status: 200, body: { reauthenticatedUntil: 'x' } },
      },
      true,
    );
    expect(text(container)).toContain('Two-step sign-in is on.');
    await click(container, 'Turn off two-step sign-in');
    await click(container, 'Keep it on');
    expect(calls()).toEqual([]);
    await click(container, 'Turn off two-step sign-in');
    await click(container, 'Turn it off');
    fill(container, 'Your password', 'correct horse');
    fill(container, 'Authenticator code', '654321');
    await click(container, 'Confirm');
    expect(sent.find((s) => s.path === '/sessions/current/reauth')!.body).toEqual({
      password: 'correct horse',
      totp: '654321',
    });
    expect(calls().filter((c) => c === 'DELETE /me/mfa/totp')).toHaveLength(2);
    expect(changed()).toBe(1);
  });
});
