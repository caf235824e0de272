import { LoroDoc } from 'loro-crdt';
import { MindMap } from './src/index.ts';
import { configureDoc } from './src/loro-layout.ts';
const world = MindMap.create('x');
const base = world.exportSnapshot();
const ups: Uint8Array[] = [];
let collecting = false;
world.onLocalUpdate((u) => { if (collecting) ups.push(u); });
const topics: string[] = [];
collecting = true;
for (let a = 0; a < 50; a++) { world.setPeerId(BigInt(1000 + a)); topics.push(world.addTopic(world.centralTopicId(), undefined, { text: `client ${a}` })); }
for (let k = 0; k < 60; k++) for (let a = 0; a < 50; a++) { world.setPeerId(BigInt(1000 + a)); world.editText(topics[a]!, 0, 0, 'x'); }
console.log('updates', ups.length);
function open() { const d = new LoroDoc(); configureDoc(d); d.import(base); d.importBatch(ups.slice(0, 550)); return d; }
const rest = ups.slice(550);
for (const chunk of [1, 256, 512, 1024, 2400]) {
  for (let rep = 0; rep < 2; rep++) {
    const d = open();
    d.import(rest[0]!); // first import builds lazily loaded state
    const t = performance.now();
    for (let i = 1; i < rest.length; i += chunk) {
      const part = rest.slice(i, i + chunk);
      if (part.length === 1) d.import(part[0]!); else d.importBatch(part);
    }
    const ms = performance.now() - t;
    if (rep === 1) console.log(`chunk ${chunk}: ${(ms / (rest.length - 1) * 1000).toFixed(1)} µs per update`);
    d.free();
  }
}
for (let rep = 0; rep < 2; rep++) {
  const d = open();
  d.import(rest[0]!);
  d.detach();
  let ti = 0, tc = 0;
  for (let i = 1; i < rest.length; i++) {
    const a = performance.now();
    d.import(rest[i]!);
    const b = performance.now();
    d.checkout(d.oplogFrontiers());
    tc += performance.now() - b; ti += b - a;
  }
  if (rep === 1) console.log(`detached: import ${(ti / (rest.length - 1) * 1000).toFixed(1)} µs, checkout ${(tc / (rest.length - 1) * 1000).toFixed(1)} µs per update`);
  d.free();
}
for (let rep = 0; rep < 2; rep++) {
  const d = open();
  d.import(rest[0]!);
  const t = performance.now();
  for (let i = 1; i < rest.length; i++) d.import(rest[i]!);
  if (rep === 1) console.log(`attached again: ${((performance.now() - t) / (rest.length - 1) * 1000).toFixed(1)} µs`);
  d.free();
}
