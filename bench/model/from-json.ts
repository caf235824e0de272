// `npx tsx bench/model/from-json.ts`: MindMap.fromJSON at growing sizes (breadth-first, fan-out 5), and addTopic
// on 100- and 1,000-topic maps. Prints wall times; no assertions.
import { LoroDoc, LoroMap, LoroMovableList, LoroText } from 'loro-crdt';
import {
  DOCUMENT_SCHEMA_VERSION,
  MindMap,
  type MapDocument,
  type Topic,
} from '../../packages/model/src/index.ts';

function generated(n: number, fan: number): MapDocument {
  let id = 0;
  const make = (): Topic => ({ id: `t${id++}`, text: `Topic ${id}`, children: [] });
  const root = make();
  const queue = [root];
  while (id < n) {
    const parent = queue.shift()!;
    for (let i = 0; i < fan && id < n; i++) {
      const child = make();
      parent.children.push(child);
      queue.push(child);
    }
  }
  return { schemaVersion: DOCUMENT_SCHEMA_VERSION, title: 'x', root, floating: [], relationships: [] };
}

function rawBuild(doc: MapDocument): void {
  const loro = new LoroDoc();
  const tree = loro.getTree('topics');
  const write = (topic: Topic, parent: string | undefined): void => {
    const node = tree.createNode(parent as never);
    node.data.set('id', topic.id);
    node.data.setContainer('text', new LoroText()).insert(0, topic.text);
    node.data.setContainer('notesHtml', new LoroText());
    for (const key of ['links', 'icons', 'tags', 'attachments', 'boundaries'])
      node.data.setContainer(key, new LoroMovableList());
    for (const key of ['task', 'style']) node.data.setContainer(key, new LoroMap());
    for (const child of topic.children) write(child, node.id);
  };
  write(doc.root, undefined);
  loro.commit();
}

const sizes = (process.env['SIZES'] ?? '500,1000,2000,4000,10000').split(',').map(Number);
for (const n of sizes) {
  const doc = generated(n, 5);
  let t0 = performance.now();
  const map = MindMap.fromJSON(doc);
  const fromJson = performance.now() - t0;
  t0 = performance.now();
  rawBuild(doc);
  const raw = performance.now() - t0;
  const same = JSON.stringify(map.toJSON()) === JSON.stringify(doc);
  console.log(
    `${n} topics: fromJSON ${fromJson.toFixed(0)} ms (raw Loro build ${raw.toFixed(0)} ms), round trip ${same ? 'same' : 'DIFFERS'}`,
  );
}

for (const n of [100, 1000]) {
  const map = MindMap.fromJSON(generated(n, 5));
  const central = map.centralTopicId();
  map.toJSON();
  const count = 50;
  let t0 = performance.now();
  for (let i = 0; i < count; i++) map.addTopic(central, undefined, { text: `new ${i}` });
  const plain = (performance.now() - t0) / count;
  t0 = performance.now();
  for (let i = 0; i < count; i++) {
    map.addTopic(central, 0, { text: `new ${i}` });
    map.toJSON();
  }
  const withView = (performance.now() - t0) / count;
  console.log(
    `${n}-topic map: addTopic ${plain.toFixed(2)} ms each; addTopic(index 0) + toJSON ${withView.toFixed(2)} ms each`,
  );
}
