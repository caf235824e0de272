// The peer: Mind Elixir (npm `mind-elixir`, MIT), a popular open-source web mind-map core that renders every topic
// as a DOM element. It is served from the bench process on /peer/ with the same generated map, laid out on both
// sides like Canopy's map layout, and measured the same way (first painted frame, rAF intervals while dragging).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Topic } from '@canopy/model';
import { generateMap } from '../../apps/web/src/editor/demo/generateMap.ts';
import type { ExtraRoute } from './staticServer.ts';

interface PeerNode {
  id: string;
  topic: string;
  expanded?: boolean;
  root?: boolean;
  children?: PeerNode[];
}

function toPeer(topic: Topic): PeerNode {
  return {
    id: topic.id,
    topic: topic.text,
    ...(topic.collapsed ? { expanded: false } : {}),
    ...(topic.children.length > 0 ? { children: topic.children.map(toPeer) } : {}),
  };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>peer</title>
<link rel="stylesheet" href="/peer/MindElixir.css">
<style>html,body{margin:0;height:100%} #map{width:100vw;height:100vh}</style>
</head><body><div id="map"></div>
<script src="/peer/MindElixir.iife.js"></script>
<script src="/peer/run.js"></script>
</body></html>`;

// Same probe shape as Canopy's demo page (window.canopyDemo), so the bench reads both alike.
const RUN = `(async () => {
  const topics = Number(new URLSearchParams(location.search).get('topics') || 1000);
  const data = await (await fetch('/peer/data.json?topics=' + topics)).json();
  const probe = { topics, openedAt: performance.now(), frames: [] };
  window.canopyDemo = probe;
  const mind = new MindElixir.default({ el: '#map', direction: MindElixir.SIDE, toolBar: false, contextMenu: false,
    keypress: false, mouseSelectionButton: 2 });
  mind.init(data);
  requestAnimationFrame(() => requestAnimationFrame(() => { probe.firstFrameAt = performance.now(); }));
})();`;

export function peerRoute(): ExtraRoute {
  const pkg = createRequire(import.meta.url).resolve('mind-elixir/package.json', {
    paths: [join(dirname(new URL(import.meta.url).pathname), '../../apps/web')],
  });
  const dist = join(dirname(pkg), 'dist');
  return async (url) => {
    switch (url.pathname) {
      case '/peer/':
        return { type: 'text/html; charset=utf-8', body: PAGE };
      case '/peer/run.js':
        return { type: 'text/javascript', body: RUN };
      case '/peer/MindElixir.iife.js':
        return { type: 'text/javascript', body: await readFile(join(dist, 'MindElixir.iife.js')) };
      case '/peer/MindElixir.css':
        return { type: 'text/css', body: await readFile(join(dist, 'MindElixir.css')) };
      case '/peer/data.json': {
        const doc = generateMap({ topics: Number(url.searchParams.get('topics') ?? 1000), seed: 7 });
        const nodeData = { ...toPeer(doc.root), root: true };
        return { type: 'application/json', body: JSON.stringify({ nodeData }) };
      }
    }
    return undefined;
  };
}

/** The peer's version, for the report. */
export async function peerVersion(): Promise<string> {
  const pkg = createRequire(import.meta.url).resolve('mind-elixir/package.json', {
    paths: [join(dirname(new URL(import.meta.url).pathname), '../../apps/web')],
  });
  return (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
}
