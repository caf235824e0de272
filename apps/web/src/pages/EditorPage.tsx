import { useMemo } from 'react';
import type { ApiClient } from '../api/client.ts';
import { Link } from '../app/Link.tsx';
import { MapEditor } from '../editor/MapEditor.tsx';
import type { ImageUrlResolver } from '../editor/render/imageCache.ts';
import { MemoryEditorStore } from '../editor/store/memoryEditorStore.ts';
import { ProblemAlert } from '../ui/forms.tsx';
import { useApiQuery } from '../ui/useApiQuery.ts';
import { SignInPrompt } from './SignInPrompt.tsx';

/** No blob endpoint is defined yet (API.md); images show as placeholders until one is. */
const resolveMapImage: ImageUrlResolver = () => undefined;

/**
 * Opens a cloud map. Until co-editing lands (WebSocket + the Loro model), the document is loaded once with
 * `GET /maps/{id}/document` into the in-memory store, and the page says that edits are not saved.
 */
export function EditorPage({ api, mapId }: { api: ApiClient; mapId: string }) {
  const [doc] = useApiQuery(`map:${mapId}`, () => api.maps.document(mapId));
  const store = useMemo(() => (doc.status === 'ready' ? new MemoryEditorStore(doc.data) : null), [doc]);
  if (doc.status === 'loading') {
    return (
      <main className="editor-page">
        <p role="status">Opening the map…</p>
      </main>
    );
  }
  if (doc.status === 'error' || !store) {
    return (
      <main className="editor-page padded">
        <p>
          <Link to={{ page: 'maps' }}>← Your maps</Link>
        </p>
        {doc.status === 'error' && doc.problem.status === 401 ? (
          <SignInPrompt next={`/maps/${encodeURIComponent(mapId)}`} />
        ) : (
          <ProblemAlert problem={doc.status === 'error' ? doc.problem : null} />
        )}
      </main>
    );
  }
  return (
    <main className="editor-page">
      <header className="editor-header">
        <Link to={{ page: 'maps' }}>← Maps</Link>
        <h1>{store.getDocument().title}</h1>
        <p className="notice" role="status">
          Read from the server; co-editing is not connected yet, so changes stay in this tab.
        </p>
      </header>
      <MapEditor store={store} resolveImage={resolveMapImage} />
    </main>
  );
}
