import { useMemo } from 'react';
import { generateMap } from '../editor/demo/generateMap.ts';
import { MapEditor } from '../editor/MapEditor.tsx';
import type { FrameStats } from '../editor/render/canvasRenderer.ts';
import { MemoryEditorStore } from '../editor/store/memoryEditorStore.ts';

/** What the benchmark reads from the demo page (see bench/editor). */
export interface DemoProbe {
  topics: number;
  /** performance.now() when the generated document was handed to the editor. */
  openedAt: number;
  /** performance.now() once the frame with the first drawing has been produced. */
  firstFrameAt?: number;
  frames: FrameStats[];
}

declare global {
  interface Window {
    canopyDemo?: DemoProbe;
  }
}

/**
 * A generated map in the in-memory store: try the editor without a server, and the page the benchmark and the
 * screenshot drive. Nothing here is saved.
 */
export function DemoPage({ topics }: { topics: number }) {
  const store = useMemo(() => {
    const doc = generateMap({ topics, seed: 7 });
    const probe: DemoProbe = { topics, openedAt: performance.now(), frames: [] };
    window.canopyDemo = probe;
    return new MemoryEditorStore(doc);
  }, [topics]);

  const onFrame = (stats: FrameStats) => {
    const probe = window.canopyDemo;
    if (!probe) return;
    probe.frames.push(stats);
    if (probe.firstFrameAt === undefined) {
      probe.firstFrameAt = -1;
      // Two frames: the first callback runs before the frame with our drawing is produced, the second after it.
      requestAnimationFrame(() => requestAnimationFrame(() => (probe.firstFrameAt = performance.now())));
    }
  };

  return (
    <main className="editor-page">
      <header className="editor-header">
        <h1>{store.getDocument().title}</h1>
        <p className="notice">Demo map in this tab only: changes are not saved.</p>
      </header>
      <MapEditor store={store} resolveImage={resolveDemoImage} onFrame={onFrame} />
    </main>
  );
}

const demoImages = new Map<string, string>();

/** Demo images are drawn here and handed out as blob: URLs, the way fetched blob bytes will be. */
function resolveDemoImage(ref: string): string | undefined {
  if (ref !== 'demo:chart') return undefined;
  let url = demoImages.get(ref);
  if (!url) {
    const bars = [30, 55, 42, 70, 62]
      .map(
        (h, i) => `<rect x="${10 + i * 22}" y="${75 - h}" width="16" height="${h}" rx="2" fill="#2e6fbd"/>`,
      )
      .join('');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" viewBox="0 0 120 80"><rect width="120" height="80" rx="6" fill="#eef2f7"/>${bars}<path d="M8 76h104" stroke="#64748b"/></svg>`;
    url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    demoImages.set(ref, url);
  }
  return url;
}
