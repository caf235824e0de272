import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import type { ApiClient } from '../../api/client.ts';
import { ApiError, networkProblem, type Problem } from '../../api/problem.ts';
import { IMPORT_EXTENSIONS, type ImportResult } from '../../api/types.ts';
import { ProblemAlert } from '../../ui/forms.tsx';

type ImportState =
  | { kind: 'idle' }
  | { kind: 'uploading'; name: string; fraction: number }
  | { kind: 'done'; name: string; result: ImportResult }
  | { kind: 'failed'; name: string; problem: Problem };

const ACCEPT = IMPORT_EXTENSIONS.join(',');

/** Checked before uploading, so a wrong file gets a clear answer at once (the server checks again). */
export function unsupportedFile(name: string): Problem | null {
  const lower = name.toLowerCase();
  if (IMPORT_EXTENSIONS.some((ext) => lower.endsWith(ext))) return null;
  return {
    type: 'about:blank',
    title: `“${name}” is not a mind-map file Canopy can import.`,
    detail: `Canopy imports ${IMPORT_EXTENSIONS.join(', ')} files.`,
    status: 0,
    code: 'unsupported_file',
  };
}

/**
 * Import by dropping a file anywhere on the zone (the map list wraps it around itself) or with the file picker;
 * shows upload progress, then the new map with any warnings, or the server's problem in plain words.
 */
export function ImportDropZone({
  api,
  onImported,
  before,
  children,
}: {
  api: ApiClient;
  onImported: (result: ImportResult) => void;
  /** Shown above the import panel (the page heading and the create form). */
  before?: ReactNode;
  children: ReactNode;
}) {
  const [state, setState] = useState<ImportState>({ kind: 'idle' });
  const [over, setOver] = useState(false);
  const picker = useRef<HTMLInputElement>(null);

  const importFile = async (file: File) => {
    const refused = unsupportedFile(file.name);
    if (refused) {
      setState({ kind: 'failed', name: file.name, problem: refused });
      return;
    }
    setState({ kind: 'uploading', name: file.name, fraction: 0 });
    try {
      const result = await api.maps.import(file, {
        onProgress: (fraction) => setState({ kind: 'uploading', name: file.name, fraction }),
      });
      setState({ kind: 'done', name: file.name, result });
      onImported(result);
    } catch (error) {
      const problem = error instanceof ApiError ? error.problem : networkProblem(error);
      setState({ kind: 'failed', name: file.name, problem });
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) void importFile(file);
  };
  const onDragOver = (e: DragEvent) => {
    if (![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };

  return (
    <div
      className={`import-zone${over ? ' drag-over' : ''}`}
      onDragOver={onDragOver}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      data-testid="import-zone"
    >
      {before}
      <section className="import-panel" aria-labelledby="import-heading">
        <h2 id="import-heading">Import</h2>
        <p>
          Drop a MindManager, XMind, FreeMind, OPML or Markdown file on this page, or{' '}
          <button type="button" className="link-button" onClick={() => picker.current?.click()}>
            choose a file
          </button>
          .
        </p>
        <input
          ref={picker}
          type="file"
          accept={ACCEPT}
          className="visually-hidden"
          aria-label="Import a map file"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) void importFile(file);
          }}
        />
        {state.kind === 'uploading' && (
          <div role="status" className="import-progress">
            <label htmlFor="import-progress">Importing {state.name}…</label>
            <progress id="import-progress" max={100} value={Math.round(state.fraction * 100)}>
              {Math.round(state.fraction * 100)}%
            </progress>
          </div>
        )}
        {state.kind === 'done' && (
          <div role="status" className="alert">
            <p>
              Imported <strong>{state.result.title}</strong> from {state.name}.
            </p>
            {state.result.warnings.length > 0 && (
              <details>
                <summary>
                  {state.result.warnings.length} thing{state.result.warnings.length === 1 ? '' : 's'} could
                  not be kept exactly
                </summary>
                <ul>
                  {state.result.warnings.map((w, i) => (
                    <li key={i}>{w}</li>
                  ))}
                </ul>
              </details>
            )}
          </div>
        )}
        {state.kind === 'failed' && (
          <>
            <p className="muted">Could not import {state.name}:</p>
            <ProblemAlert problem={state.problem} />
          </>
        )}
      </section>
      {children}
    </div>
  );
}
