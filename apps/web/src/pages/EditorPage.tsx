import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { collabTicket } from '../api/collab.ts';
import type { ApiClient } from '../api/client.ts';
import { ApiError } from '../api/problem.ts';
import { Link } from '../app/Link.tsx';
import { PresenceChips, SaveIndicator } from '../editor/collab/CollabHeader.tsx';
import type { CollabSession, CollabView } from '../editor/collab/collabSession.ts';
import { indexedDbCopies, type LocalCopy } from '../editor/collab/localCopies.ts';
import { MapEditor } from '../editor/MapEditor.tsx';
import type { CollabEditorStore } from '../editor/store/collabEditorStore.ts';
import { mapImages } from './mapImages.ts';
import { SignInPrompt } from './SignInPrompt.tsx';

type Opening =
  | { status: 'opening' }
  | { status: 'signed-out' }
  | { status: 'failed'; message: string }
  | { status: 'open'; session: CollabSession };

/**
 * Opens a cloud map for live co-editing: a ticket, then the map's socket (collab/collabSession.ts). Edits are
 * saved as they are made; the header says whether they are (Saved / Syncing… / Offline) and who else is here.
 */
export function EditorPage({ api, mapId }: { api: ApiClient; mapId: string }) {
  const [opening, setOpening] = useState<Opening>({ status: 'opening' });

  useEffect(() => {
    let session: CollabSession | undefined;
    let live = true;
    const localCopies = indexedDbCopies();
    // The collab module brings the model and Loro's WebAssembly; only this page loads it.
    Promise.all([api.me.get(), import('../editor/collab/collabSession.ts')])
      .then(async ([me, collab]) => {
        // This browser's copy of the map, with any edits a reload or a closed tab kept from the server.
        const restored = await localCopies.read(me.id, mapId).catch((): LocalCopy | undefined => undefined);
        return { me, restored, ...collab };
      })
      .then(
        ({ me, restored, CollabSession }) => {
          if (!live) return;
          session = new CollabSession({
            mapId,
            ticket: (id) => collabTicket(api, id),
            name: `${me.firstName} ${me.lastName}`.trim() || me.email,
            accountId: me.id,
            origin: window.location.origin,
            localCopies,
            ...(restored ? { restored } : {}),
          });
          session.connect();
          session.announce();
          setOpening({ status: 'open', session });
        },
        (error: unknown) => {
          if (!live) return;
          if (error instanceof ApiError && error.status === 401) setOpening({ status: 'signed-out' });
          else
            setOpening({ status: 'failed', message: error instanceof Error ? error.message : String(error) });
        },
      );
    return () => {
      live = false;
      session?.close();
    };
  }, [api, mapId]);

  if (opening.status === 'open') return <OpenMap api={api} session={opening.session} mapId={mapId} />;
  return (
    <main className="editor-page padded">
      <p>
        <Link to={{ page: 'maps' }}>← Your maps</Link>
      </p>
      {opening.status === 'opening' && <p role="status">Opening the map…</p>}
      {opening.status === 'signed-out' && <SignInPrompt next={`/maps/${encodeURIComponent(mapId)}`} />}
      {opening.status === 'failed' && (
        <div className="alert" role="alert">
          <p>The map could not be opened: {opening.message}</p>
        </div>
      )}
    </main>
  );
}

function OpenMap({ api, session, mapId }: { api: ApiClient; session: CollabSession; mapId: string }) {
  const view: CollabView = useSyncExternalStore(session.subscribe, session.getView);
  const onSelectionChange = useCallback((topicId: string) => session.setSelection(topicId), [session]);
  // Topic images come from `GET /maps/{id}/blobs/{ref}`; a failed one is drawn as the placeholder.
  const images = useMemo(() => mapImages((ref) => api.maps.blob(mapId, ref)), [api, mapId]);
  useEffect(() => () => images.dispose(), [images]);
  const uploadImage = useCallback((file: File) => api.maps.addBlob(mapId, file), [api, mapId]);
  const { store, refusal } = view;
  if (!store) {
    return (
      <main className="editor-page padded">
        <p>
          <Link to={{ page: 'maps' }}>← Your maps</Link>
        </p>
        {refusal ? <RefusalAlert refusal={refusal} mapId={mapId} /> : <p role="status">Opening the map…</p>}
      </main>
    );
  }
  const readOnly = view.role === 'viewer' || refusal !== undefined;
  return (
    <main className="editor-page">
      <header className="editor-header">
        <Link to={{ page: 'maps' }}>← Maps</Link>
        <MapTitle store={store} />
        {readOnly && <p className="view-only">View only</p>}
        <HeaderPresence store={store} collaborators={view.collaborators} />
        <SaveIndicator indicator={view.indicator} />
      </header>
      {refusal && <RefusalAlert refusal={refusal} mapId={mapId} />}
      {view.restoredUnsent && (
        <p className="restored-note" role="status">
          {view.indicator === 'offline'
            ? 'Edits from your last visit have not reached the server yet; they will be sent once you are back online.'
            : 'Sending the edits from your last visit that had not reached the server…'}
        </p>
      )}
      {view.offlineReason === 'tooManyConnections' && (
        <p className="restored-note" role="status">
          Your account has too many maps open at once (in other tabs, windows or devices). Close some of them:
          this map reconnects by itself, and your edits here are kept until it does.
        </p>
      )}
      {view.localCopyProblem && (
        <div className="alert collab-refusal" role="alert">
          <p>{view.localCopyProblem}</p>
        </div>
      )}
      {view.refusedEdit && (
        <div className="alert collab-refusal" role="alert">
          <p>
            The server refused an edit ({view.refusedEdit}); it is kept in this tab only. Reload the page to
            see the map as it is saved.
          </p>
        </div>
      )}
      <MapEditor
        store={store}
        resolveImage={images.resolve}
        readOnly={readOnly}
        collaborators={view.collaborators}
        onSelectionChange={onSelectionChange}
        uploadImage={uploadImage}
      />
    </main>
  );
}

/** The title follows the map: someone else may rename it. */
function MapTitle({ store }: { store: CollabEditorStore }) {
  const doc = useSyncExternalStore(store.subscribe, store.getDocument);
  return <h1>{doc.title || 'Untitled map'}</h1>;
}

/** The chips name the topic each person has selected, so they follow the map too. */
function HeaderPresence({
  store,
  collaborators,
}: {
  store: CollabEditorStore;
  collaborators: CollabView['collaborators'];
}) {
  // Rendered again on every change of the map, so that the names of the selected topics follow it.
  useSyncExternalStore(store.subscribe, store.getDocument);
  const topicText = (id: string) => {
    const topic = store.topic(id);
    return topic && (topic.text || 'Untitled topic');
  };
  return <PresenceChips collaborators={collaborators} topicText={topicText} />;
}

function RefusalAlert({ refusal, mapId }: { refusal: NonNullable<CollabView['refusal']>; mapId: string }) {
  if (refusal.reason === 'signedOut') return <SignInPrompt next={`/maps/${encodeURIComponent(mapId)}`} />;
  return (
    <div className="alert collab-refusal" role="alert">
      <p>{refusal.message}</p>
    </div>
  );
}
