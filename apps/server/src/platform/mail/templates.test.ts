import { describe, expect, it } from 'vitest';
import { renderTemplate, TEMPLATE_NAMES, TemplateDataError, type TemplateName } from './templates.ts';

const samples: Record<TemplateName, Record<string, unknown>> = {
  verify_email: { link: 'https://canopy.example/verify?t=abc', name: 'Ada' },
  reset_password: { link: 'https://canopy.example/reset?t=abc', expiresInMinutes: 30 },
  license_granted: {
    products: 'Canopy Pro',
    orgName: 'Acme',
    licenseId: 'lic_1',
    portalLink: 'https://canopy.example/portal',
  },
  license_revoked: { products: 'Canopy Pro', reason: 'removed', licenseId: 'lic_1' },
  seat_limit_reached: { email: 'bob@example.com', licenseId: 'lic_1', seats: 5 },
};

describe('mail templates', () => {
  it.each(TEMPLATE_NAMES)('%s renders a subject, a text body and an HTML body', (name) => {
    const m = renderTemplate(name, samples[name]);
    expect(m.subject.length).toBeGreaterThan(5);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.text).toMatch(/— Canopy\n$/);
    expect(m.html).toMatch(/^<!doctype html>/);
    for (const v of Object.values(samples[name])) {
      if (typeof v === 'string' && !['removed'].includes(v)) expect(m.text).toContain(v);
    }
  });

  it('puts the link in both bodies', () => {
    const m = renderTemplate('verify_email', samples.verify_email);
    expect(m.text).toContain('https://canopy.example/verify?t=abc');
    expect(m.html).toContain('href="https://canopy.example/verify?t=abc"');
  });

  it('escapes data in HTML', () => {
    const m = renderTemplate('license_granted', {
      products: '<script>alert(1)</script>',
      orgName: 'A & "B"',
    });
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).toContain('A &amp; &quot;B&quot;');
  });

  it('refuses missing fields and links that are not http(s)', () => {
    expect(() => renderTemplate('verify_email', {})).toThrow(TemplateDataError);
    expect(() => renderTemplate('reset_password', { link: 'javascript:alert(1)' })).toThrow(/http/);
    expect(() => renderTemplate('reset_password', { link: 'not a url' })).toThrow(/URL/);
    expect(() => renderTemplate('seat_limit_reached', { email: 'x@y.z' })).toThrow(/licenseId/);
  });
});
