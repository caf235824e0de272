/**
 * SCIM 2.0 (RFC 7643/7644) resource shapes and PATCH semantics as Microsoft Entra ID sends them: operation
 * names in any letter case ("Replace", "Add"), `active` as a boolean or the strings "True"/"False", PATCH with
 * or without a `path` (a value object instead), and `emails[type eq "work"].value` paths.
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }
  toJSON() {
    return {
      schemas: [ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.message,
    };
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Entra has sent `active` as "True"/"False" strings; accept those and real booleans, nothing else. */
export function scimBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  throw new ScimError(400, `not a boolean: ${JSON.stringify(value)}`, 'invalidValue');
}

/** The user's state that Canopy keeps: the fields it acts on, and the rest of the resource as sent. */
export interface ScimUserState {
  userName: string;
  externalId: string | null;
  active: boolean;
  /** name, displayName, emails, and any other attribute, as the IdP sent them. */
  attributes: Json;
}

const RESERVED = new Set(['schemas', 'id', 'meta', 'username', 'externalid', 'active']);

export function userStateFromResource(body: Json): ScimUserState {
  const userName = body.userName;
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw new ScimError(400, 'userName is required', 'invalidValue');
  }
  const attributes: Json = {};
  for (const [k, v] of Object.entries(body)) if (!RESERVED.has(k.toLowerCase())) attributes[k] = v;
  const externalId = body.externalId;
  return {
    userName: userName.trim(),
    externalId: typeof externalId === 'string' ? externalId : null,
    active: body.active === undefined ? true : scimBoolean(body.active),
    attributes,
  };
}

/** The email a user's seat is for: the primary (else work, else first) email, or the userName. */
export function seatEmailOf(state: ScimUserState): string {
  const emails = Array.isArray(state.attributes.emails) ? state.attributes.emails.filter(isObject) : [];
  const pick =
    emails.find((e) => e.primary === true || e.primary === 'True' || e.primary === 'true') ??
    emails.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work') ??
    emails[0];
  const value = typeof pick?.value === 'string' ? pick.value : state.userName;
  return value.trim().toLowerCase();
}

function setAttribute(state: ScimUserState, path: string, value: unknown, remove: boolean): void {
  const lower = path.toLowerCase().replace(/^urn:ietf:params:scim:schemas:core:2\.0:user:/, '');
  if (lower === 'active') {
    if (remove) throw new ScimError(400, 'active cannot be removed', 'mutability');
    state.active = scimBoolean(value);
    return;
  }
  if (lower === 'username') {
    if (remove || typeof value !== 'string' || !value.trim())
      throw new ScimError(400, 'userName must be a string', 'invalidValue');
    state.userName = value.trim();
    return;
  }
  if (lower === 'externalid') {
    state.externalId = remove || typeof value !== 'string' ? null : value;
    return;
  }
  const emailPath = /^emails\[type eq "([^"]+)"\]\.value$/.exec(lower);
  if (emailPath) {
    const type = emailPath[1] ?? 'work';
    const emails = (
      Array.isArray(state.attributes.emails) ? state.attributes.emails.filter(isObject) : []
    ).filter((e) => (typeof e.type === 'string' ? e.type.toLowerCase() : '') !== type);
    if (!remove) emails.push({ type, value, primary: emails.length === 0 });
    state.attributes.emails = emails;
    return;
  }
  const dotted = /^([a-z]+)\.([a-z]+)$/i.exec(path);
  if (dotted) {
    const [, parent = '', child = ''] = dotted;
    const key = Object.keys(state.attributes).find((k) => k.toLowerCase() === parent.toLowerCase()) ?? parent;
    const obj = isObject(state.attributes[key]) ? { ...state.attributes[key] } : {};
    const childKey = Object.keys(obj).find((k) => k.toLowerCase() === child.toLowerCase()) ?? child;
    if (remove) delete obj[childKey];
    else obj[childKey] = value;
    state.attributes[key] = obj;
    return;
  }
  const key = Object.keys(state.attributes).find((k) => k.toLowerCase() === lower) ?? path;
  if (remove) delete state.attributes[key];
  else if (lower === 'name' && isObject(value) && isObject(state.attributes[key])) {
    state.attributes[key] = { ...state.attributes[key], ...value };
  } else state.attributes[key] = value;
}

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

export function patchOperations(body: Json): PatchOperation[] {
  const ops = body.Operations ?? body.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new ScimError(400, 'Operations is required', 'invalidSyntax');
  return ops.map((o) => {
    if (!isObject(o) || typeof o.op !== 'string')
      throw new ScimError(400, 'each operation needs an op', 'invalidSyntax');
    const op = o.op.toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw new ScimError(400, `unknown op ${o.op}`, 'invalidSyntax');
    return { op, ...(typeof o.path === 'string' ? { path: o.path } : {}), value: o.value };
  });
}

/** Applies PATCH operations to a user's state (RFC 7644 §3.5.2, with Entra's casing). */
export function patchUser(state: ScimUserState, ops: PatchOperation[]): ScimUserState {
  const next: ScimUserState = { ...state, attributes: structuredClone(state.attributes) };
  for (const { op, path, value } of ops) {
    if (path) {
      setAttribute(next, path, value, op === 'remove');
    } else if (op !== 'remove' && isObject(value)) {
      for (const [k, v] of Object.entries(value)) setAttribute(next, k, v, false);
    } else {
      throw new ScimError(400, 'an operation without a path needs an object value', 'noTarget');
    }
  }
  return next;
}

export function userResource(
  row: {
    id: string;
    user_name: string;
    external_id: string | null;
    active: number;
    resource: string;
    created_at: number;
    updated_at: number;
  },
  baseUrl: string,
): Json {
  const attributes = JSON.parse(row.resource) as Json;
  return {
    schemas: [USER_SCHEMA],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    userName: row.user_name,
    ...attributes,
    active: Number(row.active) === 1,
    meta: {
      resourceType: 'User',
      created: new Date(Number(row.created_at)).toISOString(),
      lastModified: new Date(Number(row.updated_at)).toISOString(),
      location: `${baseUrl}/Users/${row.id}`,
    },
  };
}

export interface ScimFilter {
  attribute: string;
  value: string;
}

/** The filters IdPs send to match accounts: `<attribute> eq "<value>"`. */
export function parseFilter(filter: string | undefined, allowed: string[]): ScimFilter | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const m = /^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  const attribute = m?.[1];
  const found = attribute ? allowed.find((a) => a.toLowerCase() === attribute.toLowerCase()) : undefined;
  if (!m || !found) throw new ScimError(400, `unsupported filter: ${filter}`, 'invalidFilter');
  return { attribute: found, value: (m[2] ?? '').replace(/\\(.)/g, '$1') };
}

export function listResponse(resources: Json[], startIndex: number, count: number) {
  const page = resources.slice(startIndex - 1, startIndex - 1 + count);
  return {
    schemas: [LIST_SCHEMA],
    totalResults: resources.length,
    startIndex,
    itemsPerPage: page.length,
    Resources: page,
  };
}
