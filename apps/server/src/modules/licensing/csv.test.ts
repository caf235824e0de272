import { describe, expect, it } from 'vitest';
import { parseCsv, toCsv } from './csv.ts';

describe('seat CSV', () => {
  it('round-trips quotes, commas and line breaks inside cells', () => {
    const rows = [
      ['email', 'note'],
      ['a@example.com', 'says "hi", twice'],
      ['b@example.com', 'two\nlines'],
    ];
    expect(parseCsv(toCsv(rows)).map((r) => r.cells)).toEqual(rows);
  });

  it('numbers rows by the line they start on and skips blank lines and a BOM', () => {
    const parsed = parseCsv('\uFEFFemail\r\n\r\n"x\ny@example.com"\r\nz@example.com');
    expect(parsed.map((r) => [r.line, r.cells[0]])).toEqual([
      [1, 'email'],
      [3, 'x\ny@example.com'],
      [5, 'z@example.com'],
    ]);
  });

  it('neutralises cells a spreadsheet would run as formulas', () => {
    expect(toCsv([['=HYPERLINK("http://evil")', '+1', '@SUM(A1)']])).toBe(
      `"'=HYPERLINK(""http://evil"")",'+1,'@SUM(A1)\r\n`,
    );
  });
});
