/**
 * Offline verification of Canopy licence tokens: a compact JWS signed with EdDSA (Ed25519), verified against
 * the server's JWKS (`GET /api/v1/licenses/keys`, which a client caches). Written on WebCrypto only, so it
 * runs in Node 20 and in browsers. A token verifies while its key is in the JWKS (retired keys stay listed
 * after a rotation) and until its `exp`; a client should also compare `nonce` with the one it sent.
 *
 * Tokens are usually signed by a server node's own key, certified by a JWKS key: the header's `dlg` is a compact
 * JWS by a JWKS key over `{sub: <the token's kid>, x: <that key>, iat, exp}`, and the token must have been
 * issued (`iat`) while the delegation was valid. A token whose `kid` is itself in the JWKS needs no `dlg`.
 */

export interface LicenseJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg?: string;
  use?: string;
  status?: 'active' | 'retired';
}

export interface LicenseJwks {
  keys: LicenseJwk[];
}

export interface LicenseTokenClaims {
  iss: string;
  sub: string;
  email: string;
  lic: string;
  org: string;
  product: string;
  products: string[];
  seat: 'named' | 'floating';
  fp?: string;
  nonce?: string;
  lexp?: number;
  iat: number;
  exp: number;
}

export type LicenseTokenFailure =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'unknown_key'
  | 'bad_signature'
  | 'bad_delegation'
  | 'expired'
  | 'not_yet_valid'
  | 'product_mismatch'
  | 'fingerprint_mismatch'
  | 'nonce_mismatch';

export type LicenseTokenResult =
  /** `kid`: the JWKS key that vouches for the token (directly, or through its delegation). */
  { valid: true; claims: LicenseTokenClaims; kid: string } | { valid: false; reason: LicenseTokenFailure };

export interface VerifyOptions {
  /** Default: the current time. */
  now?: Date;
  /** The product the client is; a token for another product is refused. */
  product?: string;
  /** This machine's fingerprint; a token bound to another machine is refused. */
  fingerprint?: string;
  /** The nonce sent with the validation request; a replayed answer carries another one. */
  nonce?: string;
  /** Tolerated clock skew for `iat`, seconds. Default 300. */
  skewSeconds?: number;
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function decodeJson(part: string): unknown {
  return JSON.parse(new TextDecoder().decode(fromBase64Url(part)));
}

function isClaims(v: unknown): v is LicenseTokenClaims {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.sub === 'string' &&
    typeof c.lic === 'string' &&
    typeof c.product === 'string' &&
    Array.isArray(c.products) &&
    typeof c.iat === 'number' &&
    typeof c.exp === 'number'
  );
}

/** Verifies a licence token offline. Never throws on a bad token: the result says why it is refused. */
async function verifyEd25519(x: string, input: string, signature: Uint8Array<ArrayBuffer>): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey(
      'jwk',
      { kty: 'OKP', crv: 'Ed25519', x },
      { name: 'Ed25519' },
      false,
      ['verify'],
    );
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, new TextEncoder().encode(input));
  } catch {
    return false;
  }
}

interface Delegation {
  rootKid: string;
  sub: string;
  x: string;
  iat: number;
  exp: number;
}

/** Checks a delegation (a JWS by a JWKS key certifying another key); returns it, or why it fails. */
async function verifyDelegation(dlg: string, jwks: LicenseJwks): Promise<Delegation | LicenseTokenFailure> {
  const [h = '', p = '', s = '', ...rest] = dlg.split('.');
  if (rest.length || !s) return 'bad_delegation';
  let header: { alg?: unknown; kid?: unknown; typ?: unknown };
  let claims: { sub?: unknown; x?: unknown; iat?: unknown; exp?: unknown };
  let signature: Uint8Array<ArrayBuffer>;
  try {
    header = decodeJson(h) as typeof header;
    claims = decodeJson(p) as typeof claims;
    signature = fromBase64Url(s);
  } catch {
    return 'bad_delegation';
  }
  if (header.alg !== 'EdDSA' || header.typ !== 'canopy-license-delegation+jwt') return 'bad_delegation';
  const jwk = typeof header.kid === 'string' ? jwks.keys.find((k) => k.kid === header.kid) : undefined;
  if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return 'unknown_key';
  if (!(await verifyEd25519(jwk.x, `${h}.${p}`, signature))) return 'bad_delegation';
  const { sub, x, iat, exp } = claims;
  if (typeof sub !== 'string' || typeof x !== 'string' || typeof iat !== 'number' || typeof exp !== 'number')
    return 'bad_delegation';
  return { rootKid: jwk.kid, sub, x, iat, exp };
}

export async function verifyLicenseToken(
  token: string,
  jwks: LicenseJwks,
  options: VerifyOptions = {},
): Promise<LicenseTokenResult> {
  const parts = token.split('.');
  if (parts.length !== 3) return { valid: false, reason: 'malformed' };
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  let header: unknown;
  let claims: unknown;
  let signature: Uint8Array<ArrayBuffer>;
  try {
    header = decodeJson(headerPart);
    claims = decodeJson(payloadPart);
    signature = fromBase64Url(signaturePart);
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (typeof header !== 'object' || header === null) return { valid: false, reason: 'malformed' };
  const { alg, kid, dlg } = header as { alg?: unknown; kid?: unknown; dlg?: unknown };
  // Only EdDSA: never let the token choose a weaker algorithm (or "none").
  if (alg !== 'EdDSA') return { valid: false, reason: 'unsupported_algorithm' };
  if (typeof kid !== 'string') return { valid: false, reason: 'malformed' };
  const skew = options.skewSeconds ?? 300;
  let x: string;
  let rootKid: string;
  let delegation: Delegation | undefined;
  const direct = jwks.keys.find((k) => k.kid === kid);
  if (direct) {
    if (direct.kty !== 'OKP' || direct.crv !== 'Ed25519') return { valid: false, reason: 'unknown_key' };
    x = direct.x;
    rootKid = direct.kid;
  } else if (typeof dlg === 'string') {
    const checked = await verifyDelegation(dlg, jwks);
    if (typeof checked === 'string') return { valid: false, reason: checked };
    if (checked.sub !== kid) return { valid: false, reason: 'bad_delegation' };
    delegation = checked;
    x = checked.x;
    rootKid = checked.rootKid;
  } else {
    return { valid: false, reason: 'unknown_key' };
  }
  const ok = await verifyEd25519(x, `${headerPart}.${payloadPart}`, signature);
  if (!ok) return { valid: false, reason: 'bad_signature' };
  if (!isClaims(claims)) return { valid: false, reason: 'malformed' };

  // The node key may only have signed while its delegation was valid.
  if (delegation && (claims.iat < delegation.iat - skew || claims.iat > delegation.exp)) {
    return { valid: false, reason: 'bad_delegation' };
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (now >= claims.exp) return { valid: false, reason: 'expired' };
  if (claims.iat > now + skew) return { valid: false, reason: 'not_yet_valid' };
  if (
    options.product !== undefined &&
    claims.product !== options.product &&
    !claims.products.includes(options.product)
  ) {
    return { valid: false, reason: 'product_mismatch' };
  }
  if (options.fingerprint !== undefined && claims.fp !== undefined && claims.fp !== options.fingerprint) {
    return { valid: false, reason: 'fingerprint_mismatch' };
  }
  if (options.nonce !== undefined && claims.nonce !== options.nonce)
    return { valid: false, reason: 'nonce_mismatch' };
  return { valid: true, claims, kid: rootKid };
}
