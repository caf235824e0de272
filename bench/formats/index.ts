// `npm run bench formats`: import and export of generated maps (1,000 / 10,000 / 100,000 topics) as .mmap and
// .xmind, each against its floor: for import, unzipping the same file and parsing its Document.xml / content.json
// with the same parser and settings the importer uses (saxes / JSON.parse) and nothing else; for export, serialising the same
// XML/JSON text and zipping it. Prints median times and ratios. Goal: 10,000-topic .mmap import < 0.5 s, ratio ≤ 3.
//
// Options (environment): BENCH_FORMATS_RUNS=n (default 5; 100,000-topic maps run max(1, n - 2) times).
import { unzipSync, zipSync } from 'fflate';
import { SaxesParser } from 'saxes';
import { exportMap, importMap } from '../../packages/formats/src/index.ts';
import { generatedDocument } from '../../packages/formats/src/test-support/sample-documents.ts';

const RUNS = Number(process.env['BENCH_FORMATS_RUNS'] ?? 5);
const SIZES = [1_000, 10_000, 100_000];
const FORMATS = ['mmap', 'xmind'] as const;
const INNER = { mmap: 'Document.xml', xmind: 'content.json' } as const;
const GOAL = { topics: 10_000, format: 'mmap', importMs: 500, ratio: 3 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median times of `work` and its `floor`, run alternately so that both see the same load on a shared machine. */
function timePair(runs: number, work: () => void, floor: () => void): [number, number] {
  work();
  floor();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    work();
    a.push(performance.now() - start);
    start = performance.now();
    floor();
    b.push(performance.now() - start);
  }
  return [median(a), median(b)];
}

function parseFloor(format: (typeof FORMATS)[number], text: string): void {
  if (format === 'xmind') {
    JSON.parse(text);
    return;
  }
  const parser = new SaxesParser({ xmlns: false, position: false });
  parser.write(text).close();
}

const rows: string[][] = [['topics', 'format', 'size', 'import ms', 'floor ms', 'ratio', 'export ms', 'floor ms', 'ratio']];
let goalMet: boolean | undefined;
for (const topics of SIZES) {
  const document = generatedDocument(topics);
  const runs = topics >= 100_000 ? Math.max(1, RUNS - 2) : RUNS;
  for (const format of FORMATS) {
    const file = exportMap(document, format).data;
    const inner = INNER[format];
    const innerText = new TextDecoder().decode(unzipSync(file)[inner]);
    const [importMs, importFloorMs] = timePair(
      runs,
      () => {
        const result = importMap(file, { filename: `bench.${format}` });
        if (result.document.root.children.length === 0) throw new Error('empty import');
      },
      () => parseFloor(format, new TextDecoder().decode(unzipSync(file)[inner])),
    );
    const [exportMs, exportFloorMs] = timePair(
      runs,
      () => exportMap(document, format),
      () => zipSync({ [inner]: [new TextEncoder().encode(innerText), { level: 6 }] }),
    );
    const importRatio = importMs / importFloorMs;
    rows.push([
      topics.toLocaleString('en'), format, `${(file.length / 1024).toFixed(0)} KiB`,
      importMs.toFixed(1), importFloorMs.toFixed(1), importRatio.toFixed(2),
      exportMs.toFixed(1), exportFloorMs.toFixed(1), (exportMs / exportFloorMs).toFixed(2),
    ]);
    if (topics === GOAL.topics && format === GOAL.format) goalMet = importMs < GOAL.importMs && importRatio <= GOAL.ratio;
  }
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join('  '));
console.log(`\ngoal: ${GOAL.topics.toLocaleString('en')}-topic .${GOAL.format} import < ${GOAL.importMs} ms and ratio ≤ ${GOAL.ratio}: ${goalMet ? 'met' : 'NOT met'}`);
