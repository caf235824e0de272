// `npm run bench formats`: import and export of generated maps (1,000 / 10,000 / 100,000 topics) as .mmap and
// .xmind, each against its floor: for import, unzipping the same file and parsing its Document.xml / content.json
// with the same parser and settings the importer uses (saxes / JSON.parse) and nothing else; for export, serialising the same
// XML/JSON text and zipping it. Prints median wall-clock times and the wall and CPU-time ratios. Goal: 10,000-topic
// .mmap import < 0.5 s (wall) with a CPU-time ratio ≤ 3 (the machine is shared; CPU time is the steadier measure).
//
// Options (environment): BENCH_FORMATS_RUNS=n (default 5; 100,000-topic maps run max(1, n - 2) times).
import { loadavg } from 'node:os';
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

interface Pair {
  wall: [number, number];
  cpu: [number, number];
}

function measure(work: () => void): { wall: number; cpu: number } {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  work();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/**
 * Median wall-clock and CPU times of `work` and its `floor`, run alternately so that both see the same load. The
 * machine is shared, so the CPU-time ratio (this process only) is the steadier of the two.
 */
function timePair(runs: number, work: () => void, floor: () => void, warmUps: number): Pair {
  for (let i = 0; i < warmUps; i++) {
    work();
    floor();
  }
  const a: Array<{ wall: number; cpu: number }> = [];
  const b: Array<{ wall: number; cpu: number }> = [];
  for (let i = 0; i < runs; i++) {
    a.push(measure(work));
    b.push(measure(floor));
  }
  return {
    wall: [median(a.map((x) => x.wall)), median(b.map((x) => x.wall))],
    cpu: [median(a.map((x) => x.cpu)), median(b.map((x) => x.cpu))],
  };
}

function parseFloor(format: (typeof FORMATS)[number], text: string): void {
  if (format === 'xmind') {
    JSON.parse(text);
    return;
  }
  const parser = new SaxesParser({ xmlns: false, position: false });
  parser.write(text).close();
}

const rows: string[][] = [
  [
    'topics',
    'format',
    'size',
    'import ms',
    'floor ms',
    'ratio',
    'cpu ratio',
    'export ms',
    'floor ms',
    'ratio',
    'cpu ratio',
  ],
];
let goal: { met: boolean; importMs: number; importRatio: number; importCpuRatio: number } | undefined;
for (const topics of SIZES) {
  const document = generatedDocument(topics);
  const runs = topics >= 100_000 ? Math.max(1, RUNS - 2) : RUNS;
  // Small maps would otherwise measure the JIT warming up rather than the code.
  const warmUps = topics <= 1_000 ? 20 : 1;
  for (const format of FORMATS) {
    const file = exportMap(document, format).data;
    const inner = INNER[format];
    const innerText = new TextDecoder().decode(unzipSync(file)[inner]);
    const imports = timePair(
      runs,
      () => {
        const result = importMap(file, { filename: `bench.${format}` });
        if (result.document.root.children.length === 0) throw new Error('empty import');
      },
      () => parseFloor(format, new TextDecoder().decode(unzipSync(file)[inner])),
      warmUps,
    );
    const exports = timePair(
      runs,
      () => exportMap(document, format),
      () => zipSync({ [inner]: [new TextEncoder().encode(innerText), { level: 6 }] }),
      warmUps,
    );
    const [importMs, importFloorMs] = imports.wall;
    const [exportMs, exportFloorMs] = exports.wall;
    const importRatio = importMs / importFloorMs;
    const importCpuRatio = imports.cpu[0] / imports.cpu[1];
    rows.push([
      topics.toLocaleString('en'),
      format,
      `${(file.length / 1024).toFixed(0)} KiB`,
      importMs.toFixed(1),
      importFloorMs.toFixed(1),
      importRatio.toFixed(2),
      importCpuRatio.toFixed(2),
      exportMs.toFixed(1),
      exportFloorMs.toFixed(1),
      (exportMs / exportFloorMs).toFixed(2),
      (exports.cpu[0] / exports.cpu[1]).toFixed(2),
    ]);
    if (topics === GOAL.topics && format === GOAL.format) {
      goal = {
        met: importMs < GOAL.importMs && importCpuRatio <= GOAL.ratio,
        importMs,
        importRatio,
        importCpuRatio,
      };
    }
  }
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padStart(widths[i]!)).join('  '));
console.log(
  `\ngoal: ${GOAL.topics.toLocaleString('en')}-topic .${GOAL.format} import < ${GOAL.importMs} ms and ratio ≤ ${GOAL.ratio}: ` +
    (goal
      ? `${goal.met ? 'met' : 'NOT met'} (${goal.importMs.toFixed(0)} ms; wall ratio ${goal.importRatio.toFixed(2)}, CPU ratio ${goal.importCpuRatio.toFixed(2)})`
      : 'not measured'),
);
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared machine: ratios are the steadier figures)`,
);
