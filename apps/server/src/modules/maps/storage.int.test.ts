/**
 * The blob quota through the whole app (real identity, organisations and their roles): an org's maps share one
 * quota, its admins can see how much is used (`GET /orgs/{orgId}/storage`), and its members cannot.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../platform/db/testing.ts';
import { createTestApp, type TestApp } from '../../test/harness.ts';
import { bearer, createMailbox, http, tokenFrom, type Http, type Mailbox } from '../identity/testing.ts';

describeEachDialect('maps: an organisation’s storage quota', (h) => {
  let t: TestApp;
  let api: Http;
  let mail: Mailbox;
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    mail = await createMailbox();
    t = await createTestApp({ databaseUrl: h.url, env: { ...mail.env, CANOPY_BLOB_QUOTA_MIB: '1' } });
    mail.attach(t.platform);
    api = http(t.app);
  });
  afterAll(async () => {
    await t.close();
    await mail.close();
  });

  const join = async (email: string) => {
    const password = `${email} keeps a long secret`;
    await api.post(
      '/accounts',
      { email, password, firstName: 'Pat', lastName: 'Person' },
      {},
      `192.0.2.${email.length}`,
    );
    const login = await api.post('/sessions', { email, password });
    expect(login.statusCode).toBe(201);
    return login.json<{ token: string }>().token;
  };

  it('is shared by the org’s maps, shown to its admins only, and refuses what would pass it', async () => {
    const admin = await join('admin@storage.example');
    const org = (await api.post('/orgs', { name: 'Stored' }, bearer(admin))).json<{ id: string }>().id;
    await api.post(
      `/orgs/${org}/invitations`,
      { email: 'member@storage.example', role: 'member' },
      bearer(admin),
    );
    const link = tokenFrom(await mail.take('member@storage.example', /invited to Stored/));
    const member = await join('member@storage.example');
    expect((await api.post('/invitations/accept', { token: link }, bearer(member))).statusCode).toBe(200);
    const stranger = await join('stranger@storage.example');
    const inOrg = (token: string) => ({ ...bearer(token), 'x-canopy-org': org });

    const storage = () => api.get(`/orgs/${org}/storage`, bearer(admin));
    expect((await storage()).json()).toEqual({ usedBytes: 0, quotaBytes: MiB, maps: [] });
    // Members of the org see their maps, not its storage; others do not learn that the org exists.
    expect((await api.get(`/orgs/${org}/storage`, bearer(member))).statusCode).toBe(403);
    expect((await api.get(`/orgs/${org}/storage`, bearer(stranger))).statusCode).toBe(404);
    expect((await api.get(`/orgs/${org}/storage`)).statusCode).toBe(401);

    // Two members' maps in the org, one quota.
    const mapOf = async (token: string, title = 'Pictures') =>
      (await api.post('/maps', { title }, inOrg(token))).json<{ id: string }>().id;
    const upload = (token: string, mapId: string, bytes: number) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/maps/${mapId}/blobs`,
        headers: { ...inOrg(token), 'content-type': 'application/octet-stream' },
        payload: randomBytes(bytes),
      });
    const ours = await mapOf(admin);
    expect((await upload(admin, ours, 600_000)).statusCode).toBe(201);
    const theirs = await mapOf(member, 'Salary review');
    const refused = await upload(member, theirs, 600_000);
    expect(refused.statusCode).toBe(413);
    expect(refused.json()).toMatchObject({ code: 'blob_quota_exceeded' });
    expect((await upload(member, theirs, 150_000)).statusCode).toBe(201);
    expect((await upload(member, theirs, 250_000)).statusCode).toBe(201);
    // The maps counting the most, with their owners; the title of a map not shared with the admin stays its
    // owner's.
    const adminId = (await api.get('/me', bearer(admin))).json<{ id: string }>().id;
    const memberId = (await api.get('/me', bearer(member))).json<{ id: string }>().id;
    expect((await storage()).json()).toEqual({
      usedBytes: 1_000_000,
      quotaBytes: MiB,
      maps: [
        {
          id: ours,
          title: 'Pictures',
          owner: { id: adminId, email: 'admin@storage.example' },
          bytes: 600_000,
          blobs: 1,
        },
        {
          id: theirs,
          title: null,
          owner: { id: memberId, email: 'member@storage.example' },
          bytes: 400_000,
          blobs: 2,
        },
      ],
    });
    // Shared with the admin, even as a viewer: its title is shown.
    const shared = await api.post(
      `/maps/${theirs}/shares`,
      { email: 'admin@storage.example', role: 'viewer' },
      inOrg(member),
    );
    expect(shared.statusCode).toBeLessThan(300);
    const after = (await storage()).json<{ maps: { title: string | null }[] }>();
    expect(after.maps.map((m) => m.title)).toEqual(['Pictures', 'Salary review']);
    // The members' personal orgs have quotas of their own.
    const own = (await api.post('/maps', { title: 'Mine' }, bearer(member))).json<{ id: string }>().id;
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/maps/${own}/blobs`,
          headers: { ...bearer(member), 'content-type': 'application/octet-stream' },
          payload: randomBytes(600_000),
        })
      ).statusCode,
    ).toBe(201);
    expect((await storage()).json()).toMatchObject({ usedBytes: 1_000_000 });
    expect((await storage()).json<{ maps: unknown[] }>().maps).toHaveLength(2);
  });
});
