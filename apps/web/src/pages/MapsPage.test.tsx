// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { formatBytes, MapsPage } from './MapsPage.tsx';
import { button, click, fakeApi, fieldByLabel, fill, mount, settle, text } from './pageTesting.tsx';

const me = {
  id: 'a1',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  emailVerified: true,
  orgs: [
    { id: 'home', name: 'Ada', personal: true, role: 'admin' },
    { id: 'team', name: 'Engines', personal: false, role: 'admin' },
  ],
};
const plan = { id: 'm1', title: 'Plan', role: 'owner', updatedAt: '2026-01-01T00:00:00Z' };
const members = [
  { accountId: 'a1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', role: 'admin' },
  { accountId: 'b1', email: 'bob@example.com', firstName: 'Bob', lastName: 'Babbage', role: 'member' },
];

let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

async function page(routes: Parameters<typeof fakeApi>[0], options: { org?: string } = {}) {
  const fake = fakeApi(
    {
      'GET /me': { status: 200, body: me },
      'GET /orgs/home/members': { status: 200, body: members },
      'GET /orgs/team/members': { status: 200, body: members },
      ...routes,
    },
    options,
  );
  const mounted = mount(<MapsPage api={fake.api} />);
  unmount = mounted.unmount;
  await settle();
  return { ...fake, container: mounted.container };
}

/** Picks a file with the (hidden) file input, as the "choose a file" button does. */
async function pickFile(container: HTMLElement, file: File) {
  const input = container.querySelector<HTMLInputElement>('input[type=file]')!;
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  await act(async () => {
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await settle();
}

describe('map list', () => {
  it('renames a map with PATCH /maps/{id} and reloads the list', async () => {
    const { container, sent } = await page({
      'GET /maps': [
        { status: 200, body: { items: [plan] } },
        { status: 200, body: { items: [{ ...plan, title: 'Better plan' }] } },
      ],
      'PATCH /maps/m1': { status: 200, body: { ...plan, title: 'Better plan' } },
    });
    await click(container, 'Rename Plan');
    fill(container, 'New title for Plan', 'Better plan');
    await click(container, 'Save title');
    expect(sent.find((s) => s.method === 'PATCH')).toMatchObject({
      path: '/maps/m1',
      body: { title: 'Better plan' },
    });
    expect(text(container)).toContain('Better plan');
  });

  it('deletes only after the confirmation', async () => {
    const { container, calls } = await page({
      'GET /maps': [
        { status: 200, body: { items: [plan] } },
        { status: 200, body: { items: [] } },
      ],
      'DELETE /maps/m1': { status: 204 },
    });
    await click(container, 'Delete Plan');
    expect(container.querySelector('[role=alertdialog]')!.textContent).toContain('cannot be undone');
    expect(calls()).not.toContain('DELETE /maps/m1');
    await click(container, 'Keep it');
    expect(container.querySelector('[role=alertdialog]')).toBeNull();
    await click(container, 'Delete Plan');
    await click(container, 'Delete map');
    expect(calls()).toContain('DELETE /maps/m1');
    expect(text(container)).toContain('No maps yet.');
  });

  it('imports a picked file with progress, then shows the new map and its warnings', async () => {
    const { container, uploads } = await page({
      'GET /maps': [
        { status: 200, body: { items: [] } },
        { status: 200, body: { items: [plan] } },
      ],
      'POST /maps/import': { status: 201, body: { id: 'm1', title: 'Plan', warnings: ['Callouts dropped'] } },
    });
    await pickFile(container, new File([new Uint8Array([80, 75, 3, 4])], 'Plan.mmap'));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.url).toBe('/api/v1/maps/import?filename=Plan.mmap');
    // Browsers give .mmap no type: the server is told it is bytes and detects the format itself.
    expect(uploads[0]!.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'x-csrf-token': 'csrf',
    });
    expect(text(container)).toContain('Imported Plan from Plan.mmap');
    expect(text(container)).toContain('1 thing could not be kept exactly');
    expect(container.querySelector('.map-list')!.textContent).toContain('Plan');
  });

  it('explains a refused import in plain words, with the problem code', async () => {
    const { container } = await page({
      'GET /maps': { status: 200, body: { items: [] } },
      'POST /maps/import': {
        status: 422,
        body: { title: 'Unprocessable', status: 422, code: 'password_protected', detail: 'encrypted' },
      },
    });
    await pickFile(container, new File(['x'], 'Secret.xmind'));
    const alert = container.querySelector('[role=alert]')!.textContent;
    expect(alert).toContain('protected with a password');
    expect(alert).toContain('password_protected');
  });

  it('refuses a file that is no mind map without uploading it', async () => {
    const { container, uploads } = await page({ 'GET /maps': { status: 200, body: { items: [] } } });
    await pickFile(container, new File(['hello'], 'notes.txt'));
    expect(uploads).toEqual([]);
    expect(container.querySelector('[role=alert]')!.textContent).toContain('is not a mind-map file');
  });

  it('shares with a person as editor and lists the people with access by name', async () => {
    const { container, sent } = await page({
      'GET /maps': { status: 200, body: { items: [plan] } },
      'GET /maps/m1/shares': [
        { status: 200, body: { items: [] } },
        { status: 200, body: { items: [{ accountId: 'b1', role: 'editor', createdAt: 'x' }] } },
      ],
      'POST /maps/m1/shares': { status: 201, body: { accountId: 'b1', role: 'editor' } },
    });
    await click(container, 'Share Plan');
    expect(text(container)).toContain('Only you.');
    fill(container, 'Email of the person', 'bob@example.com');
    fill(container, 'Role', 'editor');
    await click(container, 'Share');
    expect(sent.find((s) => s.method === 'POST')).toMatchObject({
      path: '/maps/m1/shares',
      body: { email: 'bob@example.com', role: 'editor' },
    });
    expect(text(container)).toContain('Bob Babbage <bob@example.com> · editor');
  });

  it('offers an org admin to invite a person who is not a member yet', async () => {
    const { container, sent } = await page({
      'GET /maps': { status: 200, body: { items: [plan] } },
      'GET /maps/m1/shares': { status: 200, body: { items: [] } },
      'POST /maps/m1/shares': {
        status: 422,
        body: { title: 'x', status: 422, code: 'account_not_found' },
      },
      'POST /orgs/home/invitations': {
        status: 201,
        body: { id: 'i1', email: 'eve@example.com', role: 'member', expiresAt: 'x' },
      },
    });
    await click(container, 'Share Plan');
    fill(container, 'Email of the person', 'eve@example.com');
    await click(container, 'Share');
    expect(container.querySelector('[role=alert]')!.textContent).toContain('Invite them to the organisation');
    await click(container, 'Invite eve@example.com to Ada');
    expect(sent.at(-1)).toMatchObject({
      path: '/orgs/home/invitations',
      body: { email: 'eve@example.com', role: 'member' },
    });
    expect(text(container)).toContain('Invitation sent to eve@example.com');
    expect(container.querySelector('[role=alert]')).toBeNull();
  });

  it('switches organisation: later requests carry x-canopy-org and the list reloads', async () => {
    const { container, sent } = await page({
      'GET /maps': [
        { status: 200, body: { items: [plan] } },
        { status: 200, body: { items: [{ id: 'm2', title: 'Team map', role: 'editor' }] } },
      ],
    });
    fill(container, 'Organisation', 'team');
    await settle();
    const lastList = sent.filter((s) => s.path === '/maps').at(-1)!;
    expect(lastList.headers['x-canopy-org']).toBe('team');
    expect(text(container)).toContain('Team map');
    // An editor may rename and export, but only the owner deletes.
    expect(() => button(container, 'Delete Team map')).toThrow('no button');
    expect(button(container, 'Rename Team map')).toBeTruthy();
  });

  it('creates an organisation with POST /orgs and switches to it', async () => {
    const lab = { id: 'lab', name: 'Difference Lab', personal: false, role: 'admin' };
    const { container, sent } = await page({
      'GET /me': [
        { status: 200, body: me },
        { status: 200, body: { ...me, orgs: [...me.orgs, lab] } },
      ],
      'GET /orgs/lab/members': { status: 200, body: members.slice(0, 1) },
      'POST /orgs': { status: 201, body: lab },
      'GET /maps': [
        { status: 200, body: { items: [plan] } },
        { status: 200, body: { items: [] } },
      ],
    });
    fill(container, 'Org name', 'Difference Lab');
    await click(container, 'Create organisation');
    await settle();
    expect(sent.find((s) => s.path === '/orgs')).toMatchObject({
      method: 'POST',
      body: { name: 'Difference Lab' },
    });
    expect(sent.filter((s) => s.path === '/maps').at(-1)!.headers['x-canopy-org']).toBe('lab');
    expect(fieldByLabel(container, 'Organisation').value).toBe('lab');
    expect(text(container)).toContain('No maps yet');
  });

  it('offers the sign-in link when the session is gone', async () => {
    const { container } = await page({
      'GET /maps': { status: 401, body: { title: 'x', status: 401, code: 'unauthenticated' } },
      'GET /me': { status: 401, body: { title: 'x', status: 401, code: 'unauthenticated' } },
    });
    expect(text(container)).toContain('You are not signed in.');
  });

  it("shows an org admin what the org's images and attachments hold against the quota", async () => {
    const { container, calls } = await page({
      'GET /maps': { status: 200, body: { items: [plan] } },
      'GET /orgs/home/storage': { status: 200, body: { usedBytes: 1_572_864, quotaBytes: 10 * 1024 ** 3 } },
    });
    expect(calls()).toContain('GET /orgs/home/storage');
    expect(text(container)).toContain('Images and attachments: 1.5 MiB of 10.0 GiB (< 1%)');
  });

  it('says when the quota is full, and why uploads are refused', async () => {
    const { container } = await page({
      'GET /maps': { status: 200, body: { items: [plan] } },
      'GET /orgs/home/storage': { status: 200, body: { usedBytes: 2048, quotaBytes: 2048 } },
    });
    expect(text(container)).toContain('2.0 KiB of 2.0 KiB (100%): full.');
  });

  it('lists the maps holding the most, with their owners, and titles only of maps shared with the admin', async () => {
    const stored = (id: string, title: string | null, email: string, bytes: number, blobs: number) => ({
      id,
      title,
      owner: { id: `acc-${id}`, email },
      bytes,
      blobs,
    });
    const { container } = await page({
      'GET /maps': { status: 200, body: { items: [plan] } },
      'GET /orgs/home/storage': {
        status: 200,
        body: {
          usedBytes: 2048,
          quotaBytes: 2048,
          maps: [
            stored('m1', 'Plan', 'ada@example.com', 1536, 3),
            stored('m2', null, 'bob@example.com', 512, 1),
          ],
        },
      },
    });
    const list = container.querySelector('details.storage-maps');
    // Open: the quota is full, and these are whose maps to ask about.
    expect(list?.hasAttribute('open')).toBe(true);
    const rows = [...(list?.querySelectorAll('tbody tr') ?? [])].map((r) =>
      [...r.querySelectorAll('td')].map((td) => td.textContent),
    );
    expect(rows).toEqual([
      ['Plan', 'ada@example.com', '1.5 KiB in 3 files'],
      ['Not shared with you', 'bob@example.com', '512 B in 1 file'],
    ]);
    expect(list?.querySelector('a')?.getAttribute('href')).toContain('m1');
  });

  it('does not ask for the storage figure in an org where the caller is a member', async () => {
    const { container, calls } = await page({
      'GET /me': {
        status: 200,
        body: { ...me, orgs: [{ id: 'home', name: 'Ada', personal: false, role: 'member' }] },
      },
      'GET /maps': { status: 200, body: { items: [plan] } },
    });
    expect(text(container)).toContain('Plan');
    expect(calls()).not.toContain('GET /orgs/home/storage');
    expect(text(container)).not.toContain('Images and attachments');
  });
});

describe('formatBytes', () => {
  it('speaks in binary units with one decimal', () => {
    expect([0, 512, 1536, 10 * 1024 ** 3, 3 * 1024 ** 5].map(formatBytes)).toEqual([
      '0 B',
      '512 B',
      '1.5 KiB',
      '10.0 GiB',
      '3072.0 TiB',
    ]);
  });
});
