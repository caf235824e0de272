import { describe, expect, it } from 'vitest';
import {
  ScimError,
  parseFilter,
  patchOperations,
  patchUser,
  scimBoolean,
  seatEmailOf,
  userStateFromResource,
} from './scim-resources.ts';

describe('SCIM resources as Entra sends them', () => {
  const ada = userStateFromResource({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'ada@contoso.example',
    active: true,
    emails: [{ type: 'work', value: 'Ada.L@Contoso.example', primary: true }],
    name: { givenName: 'Ada', familyName: 'Lovelace' },
  });

  it('reads booleans as true/false or the strings "True"/"False", nothing else', () => {
    expect([true, false, 'True', 'False', 'true'].map(scimBoolean)).toEqual([true, false, true, false, true]);
    expect(() => scimBoolean('yes')).toThrow(ScimError);
  });

  it('gives the seat to the primary email, lower-cased', () => {
    expect(seatEmailOf(ada)).toBe('ada.l@contoso.example');
    expect(seatEmailOf({ ...ada, attributes: {} })).toBe('ada@contoso.example');
  });

  it('applies PATCH operations in any letter case, with a path or a value object', () => {
    const ops = patchOperations({
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'add', path: 'name.givenName', value: 'Augusta' },
        { op: 'Replace', value: { displayName: 'A. Lovelace', externalId: 'x-1' } },
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada@new.example' },
      ],
    });
    const next = patchUser(ada, ops);
    expect(next).toMatchObject({
      active: false,
      externalId: 'x-1',
      attributes: { displayName: 'A. Lovelace', name: { givenName: 'Augusta', familyName: 'Lovelace' } },
    });
    expect(seatEmailOf(next)).toBe('ada@new.example');
    expect(ada.active).toBe(true); // the input is not changed
  });

  it('refuses unknown operations and unsupported filters with SCIM error types', () => {
    expect(() => patchOperations({ Operations: [{ op: 'move', path: 'active' }] })).toThrow(/unknown op/);
    expect(() => patchOperations({})).toThrow(/Operations/);
    expect(parseFilter('userName eq "a@b.c"', ['userName'])).toEqual({
      attribute: 'userName',
      value: 'a@b.c',
    });
    expect(parseFilter('USERNAME Eq "a\\"b"', ['userName'])).toEqual({ attribute: 'userName', value: 'a"b' });
    expect(() => parseFilter('userName sw "a"', ['userName'])).toThrow(ScimError);
    expect(() => parseFilter('title eq "x"', ['userName'])).toThrow(ScimError);
  });
});
