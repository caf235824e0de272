/** The maps API's TypeBox schemas: they validate, serialise and document (OpenAPI) the routes. */
import { Type, type Static } from '@sinclair/typebox';

export const MapIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const VersionParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  versionId: Type.String({ minLength: 1, maxLength: 64 }),
});
export const BlobParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  blobId: Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: "the document's ref, sha256:<hex>" }),
});
export const ShareParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  accountId: Type.String({ minLength: 1, maxLength: 64 }),
});

export const Role = Type.Union([Type.Literal('owner'), Type.Literal('editor'), Type.Literal('viewer')]);
export const ShareRole = Type.Union([Type.Literal('editor'), Type.Literal('viewer')]);

export const MapSummary = Type.Object({
  id: Type.String(),
  title: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  role: Role,
});
export type MapSummary = Static<typeof MapSummary>;

export const CreateMapBody = Type.Object(
  { title: Type.String({ maxLength: 1000 }) },
  { additionalProperties: false },
);
export const RenameMapBody = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
export const MapList = Type.Object({ items: Type.Array(MapSummary) });

export const ShareBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320 }), role: ShareRole },
  { additionalProperties: false },
);
export const Share = Type.Object({ accountId: Type.String(), role: ShareRole });
export const ShareList = Type.Object({
  items: Type.Array(Type.Object({ accountId: Type.String(), role: ShareRole, createdAt: Type.String() })),
});

export const Version = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export const VersionList = Type.Object({ items: Type.Array(Version) });
export const CreateVersionBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);
export const RestoreResult = Type.Object({ restored: Type.String(), savedAs: Type.String() });

export const BlobAdded = Type.Object({
  ref: Type.String({ description: 'what the document puts in an image or attachment: sha256:<hex>' }),
  mimeType: Type.String(),
  size: Type.Integer(),
});
export const OrgParams = Type.Object({ orgId: Type.String({ minLength: 1, maxLength: 64 }) });
export const OrgStorage = Type.Object({
  usedBytes: Type.Integer({ description: "bytes of images and attachments the organisation's maps hold" }),
  quotaBytes: Type.Union([Type.Integer(), Type.Null()], {
    description: 'how many they may hold (CANOPY_BLOB_QUOTA_MIB); null: no limit',
  }),
  maps: Type.Array(
    Type.Object({
      id: Type.String(),
      title: Type.Union([Type.String(), Type.Null()], {
        description: 'null when the map is not shared with the caller (its title is its owner’s to share)',
      }),
      owner: Type.Object({
        id: Type.String(),
        email: Type.Union([Type.String(), Type.Null()], { description: 'null if the account is gone' }),
      }),
      bytes: Type.Integer({ description: 'what the map counts against the quota' }),
      blobs: Type.Integer({ description: 'how many images and attachments that is' }),
    }),
    { description: 'the maps counting the most, most first (at most 20)' },
  ),
});
export const ImportResult = Type.Object({
  id: Type.String(),
  title: Type.String(),
  warnings: Type.Array(Type.String()),
});
export const ExportQuery = Type.Object({
  format: Type.Union(['mmap', 'xmind', 'mm', 'opml', 'md', 'json', 'html'].map((f) => Type.Literal(f))),
});

/** The document JSON contract is the model's; here it is passed through as an object. */
export const DocumentJson = Type.Object({}, { additionalProperties: true });
