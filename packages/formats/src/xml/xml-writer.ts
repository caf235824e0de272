/** Escaping for XML text and attribute values; characters XML 1.0 forbids are dropped. */
const INVALID_XML_CHARS =
  // eslint-disable-next-line no-control-regex -- matching the control characters XML forbids is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function escapeXmlText(value: string): string {
  return value
    .replace(INVALID_XML_CHARS, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

export function escapeXmlAttr(value: string): string {
  return escapeXmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

/** `name="value"` pairs for the defined values, in order. */
export function xmlAttrs(attrs: Record<string, string | number | boolean | undefined>): string {
  let out = '';
  for (const key in attrs) {
    const value = attrs[key];
    if (value === undefined) continue;
    out += ` ${key}="${escapeXmlAttr(String(value))}"`;
  }
  return out;
}
