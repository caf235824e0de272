/** Schemes a topic link or a link in notes may use: web pages and e-mail, never script or local files. */
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** Whether a stored URL may be shown as a clickable link (imports can carry anything). */
export function isSafeWebUrl(url: string): boolean {
  try {
    return SAFE_PROTOCOLS.has(new URL(url).protocol);
  } catch {
    return false;
  }
}

/**
 * Reads what someone typed as a link: a full http(s)/mailto URL, or a bare address (`example.com/x`, read as
 * https) or e-mail address (read as mailto). Anything else (javascript:, data:, file:, ftp:) is refused.
 */
export function parseWebLink(input: string): { url: string } | { error: string } {
  const text = input.trim();
  if (!text) return { error: 'Enter a web address.' };
  let candidate = text;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    candidate = /^[^\s@/]+@[^\s@/]+\.[^\s@/]+$/.test(text) ? `mailto:${text}` : `https://${text}`;
  }
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return { error: 'That is not a web address.' };
  }
  if (!SAFE_PROTOCOLS.has(url.protocol)) return { error: 'Only http, https and mailto links are allowed.' };
  if (url.protocol !== 'mailto:' && !url.hostname.includes('.') && url.hostname !== 'localhost') {
    return { error: 'That is not a web address.' };
  }
  return { url: url.href };
}
