import { ICON_CATALOG, iconGlyph, iconName } from '../render/icons.ts';

interface Props {
  readonly icons: readonly string[];
  readonly readOnly: boolean;
  readonly onChange: (icons: string[]) => void;
}

/** The topic's markers as chips, and the catalogue the renderer can draw as toggle buttons. */
export function IconsSection({ icons, readOnly, onChange }: Props) {
  const toggle = (id: string) =>
    onChange(icons.includes(id) ? icons.filter((i) => i !== id) : [...icons, id]);
  return (
    <div className="icons-section">
      {icons.length > 0 ? (
        <ul className="chips" aria-label="Markers">
          {icons.map((icon) => (
            <li key={icon} className="chip">
              <IconGlyph icon={icon} />
              <span>{iconName(icon)}</span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove marker ${iconName(icon)}`}
                disabled={readOnly}
                onClick={() => onChange(icons.filter((i) => i !== icon))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="panel-empty">No markers.</p>
      )}
      <details className="icon-picker">
        <summary>Add or remove markers</summary>
        <div className="icon-grid" role="group" aria-label="Choose markers">
          {ICON_CATALOG.map(({ id, name }) => (
            <button
              key={id}
              type="button"
              aria-label={name}
              title={name}
              aria-pressed={icons.includes(id)}
              disabled={readOnly}
              onClick={() => toggle(id)}
            >
              <IconGlyph icon={id} />
            </button>
          ))}
        </div>
      </details>
    </div>
  );
}

/** The same glyph the canvas draws. React's style prop goes through the CSSOM, which the CSP allows. */
function IconGlyph({ icon }: { icon: string }) {
  const glyph = iconGlyph(icon);
  return (
    <span className="icon-glyph" aria-hidden="true" style={{ backgroundColor: glyph.background }}>
      {glyph.label ?? ''}
    </span>
  );
}
