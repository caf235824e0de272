// `npm run bench model`: Canopy's model layer against the engine it wraps. Each scenario runs the same work through
// `MindMap` (validation, id index, the JSON view kept up to date from events) and through raw loro-crdt, whose
// view is what a binding without our layer would do: `doc.toJSON()` after each change. Generated maps of 1,000
// and 3,000 topics. Prints median wall and CPU times and their ratios (below 1: Canopy is faster).
//
// Options (environment): BENCH_MODEL_RUNS=n (default 3).
import { loadavg } from 'node:os';
import { LoroDoc, LoroMap, LoroMovableList, LoroText } from 'loro-crdt';
import {
  DOCUMENT_SCHEMA_VERSION,
  MindMap,
  type MapDocument,
  type Topic,
} from '../../packages/model/src/index.ts';

const RUNS = Number(process.env['BENCH_MODEL_RUNS'] ?? 3);
const SIZES = [1_000, 3_000];
const KEYSTROKES = 20;

function generated(size: number): MapDocument {
  const topics: Topic[] = [];
  const root: Topic = { id: 't0', text: 'central', children: [] };
  topics.push(root);
  for (let i = 1; i < size; i++) {
    const topic: Topic = {
      id: `t${i}`,
      text: `topic ${i}`,
      notesHtml: i % 5 === 0 ? `<p>note ${i}</p>` : undefined,
      children: [],
    };
    if (topic.notesHtml === undefined) delete topic.notesHtml;
    topics[Math.floor((i - 1) / 8)]!.children.push(topic);
    topics.push(topic);
  }
  return { schemaVersion: DOCUMENT_SCHEMA_VERSION, title: 'bench', root, floating: [], relationships: [] };
}

/** The floor: the same tree and containers written with raw Loro calls. */
function rawBuild(doc: MapDocument): LoroDoc {
  const loro = new LoroDoc();
  const tree = loro.getTree('topics');
  const write = (topic: Topic, parent: ReturnType<typeof tree.createNode> | undefined): void => {
    const node = parent ? parent.createNode() : tree.createNode();
    node.data.set('id', topic.id);
    node.data.setContainer('text', new LoroText()).insert(0, topic.text);
    node.data.setContainer('notesHtml', new LoroText()).insert(0, topic.notesHtml ?? '');
    for (const key of ['links', 'icons', 'tags', 'attachments', 'boundaries'])
      node.data.setContainer(key, new LoroMovableList());
    for (const key of ['task', 'style']) node.data.setContainer(key, new LoroMap());
    for (const child of topic.children) write(child, node);
  };
  write(doc.root, undefined);
  loro.commit();
  return loro;
}

function measure(work: () => void): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  work();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function compare(name: string, ours: () => void, floor: () => void): void {
  const o: { wall: number; cpu: number }[] = [];
  const f: { wall: number; cpu: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    o.push(measure(ours));
    f.push(measure(floor));
  }
  const [ow, fw] = [median(o.map((m) => m.wall)), median(f.map((m) => m.wall))];
  const [oc, fc] = [median(o.map((m) => m.cpu)), median(f.map((m) => m.cpu))];
  console.log(
    `${name.padEnd(44)} canopy ${ow.toFixed(1).padStart(8)} ms  loro+toJSON ${fw.toFixed(1).padStart(8)} ms  ` +
      `wall ×${(ow / fw).toFixed(2)}  cpu ×${(oc / fc).toFixed(2)}`,
  );
}

console.log(
  `load average ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}; ${RUNS} runs, medians`,
);
for (const size of SIZES) {
  const doc = generated(size);
  const map = MindMap.fromJSON(doc);
  const snapshot = map.exportSnapshot();
  const raw = rawBuild(doc);
  const rawText = raw.getTree('topics').roots()[0]!.children()![0]!.data.get('text') as LoroText;
  const target = doc.root.children[0]!.id;

  compare(
    `${size} topics: build from JSON`,
    () => void MindMap.fromJSON(doc),
    () => void rawBuild(doc),
  );
  compare(
    `${size} topics: load snapshot (validated)`,
    () => void MindMap.fromSnapshot(snapshot),
    () => {
      const loro = new LoroDoc();
      loro.import(snapshot);
      loro.toJSON();
    },
  );
  compare(
    `${size} topics: ${KEYSTROKES} keystrokes + view each`,
    () => {
      for (let i = 0; i < KEYSTROKES; i++) {
        map.editText(target, 0, 0, 'x');
        map.toJSON();
      }
    },
    () => {
      for (let i = 0; i < KEYSTROKES; i++) {
        rawText.insert(0, 'x');
        raw.commit();
        raw.toJSON();
      }
    },
  );

  const sender = MindMap.fromSnapshot(snapshot);
  const receiver = MindMap.fromSnapshot(snapshot);
  const rawReceiver = new LoroDoc();
  rawReceiver.import(snapshot);
  if (!sender.ok || !receiver.ok) throw new Error('snapshot did not load');
  const updates: Uint8Array[] = [];
  sender.value.onLocalUpdate((update) => updates.push(update));
  for (let i = 0; i < KEYSTROKES * RUNS * 2; i++) sender.value.editText(target, 0, 0, 'y');
  let next = 0;
  compare(
    `${size} topics: ${KEYSTROKES} remote keystrokes + view`,
    () => {
      for (let i = 0; i < KEYSTROKES; i++) {
        receiver.value.importUpdates(updates[next + i]!);
        receiver.value.toJSON();
      }
    },
    () => {
      for (let i = 0; i < KEYSTROKES; i++) {
        rawReceiver.import(updates[next + i]!);
        rawReceiver.toJSON();
      }
      next += KEYSTROKES;
    },
  );
  compare(
    `${size} topics: 10 topic adds + view each`,
    () => {
      for (let i = 0; i < 10; i++) {
        map.addTopic(target, undefined, { text: 'new' });
        map.toJSON();
      }
    },
    () => {
      const parent = raw.getTree('topics').roots()[0]!;
      for (let i = 0; i < 10; i++) {
        const node = parent.createNode();
        node.data.setContainer('text', new LoroText()).insert(0, 'new');
        raw.commit();
        raw.toJSON();
      }
    },
  );
}
