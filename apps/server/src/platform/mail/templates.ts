/**
 * Mail templates: each renders a subject, a plain-text body and an HTML body from its data. Every value is
 * escaped in HTML; links must be http(s) URLs. Data fields are checked at send time, so a caller's mistake
 * fails loudly in its own request instead of as a dead job.
 */
export const TEMPLATE_NAMES = [
  'verify_email',
  'reset_password',
  'license_granted',
  'license_revoked',
  'seat_limit_reached',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type TemplateData = Record<string, unknown>;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export class TemplateDataError extends Error {
  constructor(template: string, problem: string) {
    super(`mail template ${template}: ${problem}`);
    this.name = 'TemplateDataError';
  }
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

class Fields {
  constructor(
    private readonly template: string,
    private readonly data: TemplateData,
  ) {}
  text(name: string): string {
    const v = this.data[name];
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v.trim() === '')
      throw new TemplateDataError(this.template, `${name} is required`);
    return v;
  }
  optional(name: string): string | undefined {
    const v = this.data[name];
    return v === undefined || v === null || v === '' ? undefined : this.text(name);
  }
  link(name: string): string {
    const v = this.text(name);
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new TemplateDataError(this.template, `${name} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new TemplateDataError(this.template, `${name} must be an http(s) URL`);
    return url.toString();
  }
  optionalLink(name: string): string | undefined {
    return this.data[name] === undefined ? undefined : this.link(name);
  }
}

/** Paragraphs: strings, or a link with its label. Rendered to both text and HTML from one description. */
type Block = string | { label: string; href: string };

function layout(subject: string, blocks: Block[]): RenderedMail {
  const text =
    blocks.map((b) => (typeof b === 'string' ? b : `${b.label}:\n${b.href}`)).join('\n\n') + '\n\n— Canopy\n';
  const body = blocks
    .map((b) =>
      typeof b === 'string'
        ? `<p>${escapeHtml(b)}</p>`
        : `<p><a href="${escapeHtml(b.href)}" style="display:inline-block;padding:10px 16px;background:#2f6f4e;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(b.label)}</a></p>\n<p style="font-size:12px;color:#666">${escapeHtml(b.href)}</p>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1d1d1d;max-width:560px;margin:24px auto">
${body}
<p style="color:#666">— Canopy</p>
</body></html>
`;
  return { subject, text, html };
}

const RENDER: Record<TemplateName, (f: Fields) => RenderedMail> = {
  verify_email: (f) => {
    const hours = f.optional('expiresInHours') ?? '24';
    const name = f.optional('name');
    return layout('Confirm your email address', [
      name ? `Hello ${name},` : 'Hello,',
      'Please confirm that this is your email address for your Canopy account.',
      { label: 'Confirm email address', href: f.link('link') },
      `The link works for ${hours} hours. If you did not sign up, ignore this mail.`,
    ]);
  },
  reset_password: (f) => {
    const minutes = f.optional('expiresInMinutes') ?? '30';
    return layout('Reset your Canopy password', [
      'Someone (we hope you) asked to reset the password of your Canopy account.',
      { label: 'Choose a new password', href: f.link('link') },
      `The link works once, for ${minutes} minutes. If you did not ask for it, ignore this mail: your password stays as it is.`,
    ]);
  },
  license_granted: (f) => {
    const products = f.text('products');
    const org = f.optional('orgName');
    const portal = f.optionalLink('portalLink');
    return layout(`You have a licence for ${products}`, [
      org
        ? `${org} has given you a licence for ${products}.`
        : `You have been given a licence for ${products}.`,
      'Sign in to the app with this email address to use it.',
      ...(portal ? [{ label: 'Open the licence portal', href: portal }] : []),
      ...(f.optional('licenseId') ? [`Licence reference: ${f.text('licenseId')}`] : []),
    ]);
  },
  license_revoked: (f) => {
    const products = f.optional('products');
    const reason = f.optional('reason');
    const why =
      reason === 'removed'
        ? 'An administrator removed your seat.'
        : reason === 'deactivated'
          ? 'The licence was deactivated.'
          : reason;
    return layout(products ? `Your licence for ${products} has ended` : 'Your licence has ended', [
      products
        ? `Your licence for ${products} is no longer active.`
        : 'One of your licences is no longer active.',
      ...(why ? [why] : []),
      'If you think this is a mistake, ask your organisation’s administrator.',
      ...(f.optional('licenseId') ? [`Licence reference: ${f.text('licenseId')}`] : []),
    ]);
  },
  seat_limit_reached: (f) => {
    const who = f.text('email');
    const seats = f.optional('seats');
    const manage = f.optionalLink('manageLink');
    return layout('A licence has no free seats', [
      `${who} could not be given a seat on licence ${f.text('licenseId')}: ${seats ? `all ${seats} seats are taken` : 'all seats are taken'}.`,
      'Free a seat or add seats to let them in.',
      ...(manage ? [{ label: 'Manage seats', href: manage }] : []),
    ]);
  },
};

export function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

export function renderTemplate(name: TemplateName, data: TemplateData): RenderedMail {
  return RENDER[name](new Fields(name, data));
}
