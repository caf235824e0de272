// @vitest-environment jsdom
// jsdom, not happy-dom: DOMPurify misreads happy-dom's nodes (it keeps <script> and drops <p> there).
import DOMPurify from 'dompurify';
import { describe, expect, it } from 'vitest';
import { sanitizeNotesHtml, showNotes } from './notesHtml.ts';
import { normaliseColor } from './notesSubset.ts';

describe('sanitizeNotesHtml', () => {
  it('keeps the subset MindManager and XMind notes use', () => {
    const html =
      '<p>Hello <b>bold</b> <i>it</i> <u>under</u> <s>gone</s><br/>' +
      '<a href="https://example.com/a?b=1&amp;c=2">link</a> <span style="color:#c2410c">warm</span></p>' +
      '<ul><li>one</li></ul><ol><li>two</li></ol>';
    expect(sanitizeNotesHtml(html)).toBe(html);
  });

  it('drops <script> with its content, and other script-like elements', () => {
    const out = sanitizeNotesHtml(
      '<p>safe<script>alert(1)</script></p><style>p{}</style><iframe src="https://x"></iframe>',
    );
    expect(out).toBe('<p>safe</p>');
  });

  it('drops on* attributes and keeps the element', () => {
    const out = sanitizeNotesHtml(
      '<p onclick="alert(1)">a<b onmouseover="x()">b</b><img src=x onerror=alert(1)></p>',
    );
    expect(out).toBe('<p>a<b>b</b></p>');
  });

  it('drops javascript:, data: and other non-web URLs but keeps the link text', () => {
    for (const href of [
      'javascript:alert(1)',
      ' JaVaScRiPt:alert(1)',
      'data:text/html,x',
      'vbscript:x',
      'file:///etc',
    ]) {
      expect(sanitizeNotesHtml(`<p><a href="${href}">text</a></p>`)).toBe('<p>text</p>');
    }
    expect(sanitizeNotesHtml('<a href="mailto:a@b.c">mail</a>')).toBe('<a href="mailto:a@b.c">mail</a>');
  });

  it('maps what browsers and other apps write onto the model subset', () => {
    expect(sanitizeNotesHtml('<div><strong>x</strong><em>y</em><del>z</del></div>')).toBe(
      '<p><b>x</b><i>y</i><s>z</s></p>',
    );
    expect(sanitizeNotesHtml('<font color="#f00">red</font>')).toBe('<span style="color:#ff0000">red</span>');
    expect(sanitizeNotesHtml('<span style="color: rgb(220, 38, 38); font-size: 40px">c</span>')).toBe(
      '<span style="color:#dc2626">c</span>',
    );
    // Only a colour survives in style, never other declarations or unknown colour syntax.
    expect(sanitizeNotesHtml('<span style="background:url(https://x)">c</span>')).toBe('c');
    // Headings become paragraphs (as the importers do); unknown elements keep only their text.
    expect(sanitizeNotesHtml('<h1 class="big" id="t">Title</h1><table><tr><td>cell</td></tr></table>')).toBe(
      '<p>Title</p>cell',
    );
  });

  it('escapes text so that it can never become markup', () => {
    expect(sanitizeNotesHtml('<p>&lt;script&gt;1 &amp; 2</p>')).toBe('<p>&lt;script&gt;1 &amp; 2</p>');
  });

  it('treats a note with no readable text as no note', () => {
    expect(sanitizeNotesHtml('')).toBeUndefined();
    expect(sanitizeNotesHtml('<p><br></p>')).toBeUndefined();
    expect(sanitizeNotesHtml('<script>x</script>')).toBeUndefined();
  });
});

describe('the DOM never parses a style or on* attribute (Chromium reports each under the CSP)', () => {
  it('hands DOMPurify colours as <font color> and no event handlers', () => {
    const seen: string[] = [];
    DOMPurify.addHook('uponSanitizeAttribute', (_node, data) => {
      seen.push(data.attrName);
    });
    try {
      sanitizeNotesHtml(
        '<p onclick="x()" style="font-size:40px"><span style="color:#dc2626" onmouseover="y()">red</span>' +
          '<a href="https://e.org" style="color:red" onfocus="z()">e</a></p>',
      );
    } finally {
      DOMPurify.removeHook('uponSanitizeAttribute');
    }
    expect(seen.sort()).toEqual(['color', 'href']);
  });
});

describe('showNotes', () => {
  it('shows a sanitised note, links in a new tab without an opener, colours through the CSSOM', () => {
    const el = document.createElement('div');
    showNotes(
      el,
      '<p onclick="x()">Hi <a href="https://example.com">there</a><a href="javascript:alert(1)">bad</a>' +
        '<span style="color:#15803d">green</span></p><script>alert(1)</script>',
    );
    expect(el.querySelector('[onclick]')).toBeNull();
    expect(el.querySelector('script')).toBeNull();
    const links = el.querySelectorAll('a');
    expect(links).toHaveLength(1);
    expect(links[0]!.getAttribute('target')).toBe('_blank');
    expect(links[0]!.getAttribute('rel')).toBe('noopener noreferrer');
    expect(el.querySelector('span')!.style.color).not.toBe('');
    expect(el.textContent).toBe('Hi therebadgreen');
  });

  it('clears the element when there is no note', () => {
    const el = document.createElement('div');
    el.textContent = 'old';
    showNotes(el, undefined);
    expect(el.childNodes).toHaveLength(0);
  });
});

describe('normaliseColor', () => {
  it('accepts hex and rgb() only', () => {
    expect(normaliseColor('#ABC')).toBe('#aabbcc');
    expect(normaliseColor('rgb(300, 0, 16)')).toBe('#ff0010');
    expect(normaliseColor('red')).toBeUndefined();
    expect(normaliseColor('expression(alert(1))')).toBeUndefined();
  });
});
