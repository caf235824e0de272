/**
 * The plain-JSON view of a mind map: the contract between the model, the formats, the server and the clients.
 * The Loro document is the source of truth while a map is edited; this view is what crosses package lines.
 * Every id is unique within one document; topic links and relationships refer to topic ids.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Bumped when the shape of the document changes; the model migrates older documents on load. */
export const DOCUMENT_SCHEMA_VERSION = 1;

const Color = Type.String({ description: 'CSS colour, #rrggbb or #rrggbbaa' });

export const TextRunSchema = Type.Object({
  text: Type.String(),
  bold: Type.Optional(Type.Boolean()),
  italic: Type.Optional(Type.Boolean()),
  underline: Type.Optional(Type.Boolean()),
  strike: Type.Optional(Type.Boolean()),
  color: Type.Optional(Color),
  fontFamily: Type.Optional(Type.String()),
  fontSize: Type.Optional(Type.Number()),
});
export type TextRun = Static<typeof TextRunSchema>;

export const LinkSchema = Type.Union([
  Type.Object({ kind: Type.Literal('url'), url: Type.String(), title: Type.Optional(Type.String()) }),
  Type.Object({ kind: Type.Literal('topic'), topicId: Type.String(), title: Type.Optional(Type.String()) }),
]);
export type Link = Static<typeof LinkSchema>;

export const TaskSchema = Type.Object({
  /** 1 (highest) to 9. */
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })),
  /** Percent complete, 0 to 100. */
  progress: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  startDate: Type.Optional(Type.String({ description: 'RFC 3339' })),
  dueDate: Type.Optional(Type.String({ description: 'RFC 3339' })),
  durationMinutes: Type.Optional(Type.Number({ minimum: 0 })),
  resources: Type.Optional(Type.Array(Type.String())),
});
export type Task = Static<typeof TaskSchema>;

/** A reference to bytes stored outside the document (image, attachment): resolved by the caller. */
export const BlobRefSchema = Type.Object({
  ref: Type.String({ description: 'opaque blob reference, e.g. sha256:<hex>' }),
  mimeType: Type.Optional(Type.String()),
  size: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type BlobRef = Static<typeof BlobRefSchema>;

export const ImageSchema = Type.Composite([
  BlobRefSchema,
  Type.Object({ width: Type.Optional(Type.Number()), height: Type.Optional(Type.Number()) }),
]);
export type TopicImage = Static<typeof ImageSchema>;

export const AttachmentSchema = Type.Composite([BlobRefSchema, Type.Object({ name: Type.String() })]);
export type Attachment = Static<typeof AttachmentSchema>;

export const TopicStyleSchema = Type.Object({
  fillColor: Type.Optional(Color),
  lineColor: Type.Optional(Color),
  textColor: Type.Optional(Color),
  shape: Type.Optional(
    Type.String({ description: 'rectangle, rounded-rectangle, ellipse, line, none, ...' }),
  ),
  fontFamily: Type.Optional(Type.String()),
  fontSize: Type.Optional(Type.Number()),
  bold: Type.Optional(Type.Boolean()),
  italic: Type.Optional(Type.Boolean()),
});
export type TopicStyle = Static<typeof TopicStyleSchema>;

/** A boundary or summary spans the children from index `from` to `to` (inclusive) of the topic that holds it. */
export const RangeSchema = Type.Object({
  from: Type.Integer({ minimum: 0 }),
  to: Type.Integer({ minimum: 0 }),
});

export const BoundarySchema = Type.Object({
  id: Type.String(),
  range: RangeSchema,
  label: Type.Optional(Type.String()),
  shape: Type.Optional(Type.String()),
  color: Type.Optional(Color),
});
export type Boundary = Static<typeof BoundarySchema>;

export const TopicSchema = Type.Recursive(
  (Self) =>
    Type.Object({
      id: Type.String(),
      text: Type.String(),
      /** Rich runs; when present, their concatenated text equals `text`. */
      richText: Type.Optional(Type.Array(TextRunSchema)),
      /** Sanitised XHTML subset (p, br, b, i, u, s, a, ul, ol, li, span with colour). */
      notesHtml: Type.Optional(Type.String()),
      links: Type.Optional(Type.Array(LinkSchema)),
      /** Canonical icon/marker ids (e.g. `priority-1`, `flag-red`, `smiley-happy`); unknown ones keep a prefix (`mmap:`, `xmind:`). */
      icons: Type.Optional(Type.Array(Type.String())),
      task: Type.Optional(TaskSchema),
      /** Text labels / tags. */
      tags: Type.Optional(Type.Array(Type.String())),
      image: Type.Optional(ImageSchema),
      attachments: Type.Optional(Type.Array(AttachmentSchema)),
      style: Type.Optional(TopicStyleSchema),
      collapsed: Type.Optional(Type.Boolean()),
      /** Position relative to the central topic, for floating topics (and topics placed by hand). */
      position: Type.Optional(Type.Object({ x: Type.Number(), y: Type.Number() })),
      boundaries: Type.Optional(Type.Array(BoundarySchema)),
      summaries: Type.Optional(
        Type.Array(Type.Object({ id: Type.String(), range: RangeSchema, topic: Self })),
      ),
      children: Type.Array(Self),
    }),
  { $id: 'Topic' },
);
export type Topic = Static<typeof TopicSchema>;

export const RelationshipSchema = Type.Object({
  id: Type.String(),
  fromId: Type.String(),
  toId: Type.String(),
  label: Type.Optional(Type.String()),
  color: Type.Optional(Color),
  dashed: Type.Optional(Type.Boolean()),
});
export type Relationship = Static<typeof RelationshipSchema>;

export const MapDocumentSchema = Type.Object({
  schemaVersion: Type.Integer({ minimum: 1 }),
  title: Type.String(),
  /** The central topic: the one root of the tree. */
  root: TopicSchema,
  /** Topics not attached to the tree (each may have children). */
  floating: Type.Array(TopicSchema),
  relationships: Type.Array(RelationshipSchema),
  /** Free-form map-level metadata (author, source application, ...). */
  meta: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type MapDocument = Static<typeof MapDocumentSchema>;
