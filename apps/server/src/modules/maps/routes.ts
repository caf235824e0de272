/** The maps REST API (API.md, "Maps and co-editing"). */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DEFAULT_LIMITS } from '@canopy/formats';
import { unauthenticated } from '../../platform/errors.ts';
import { blobResponse, contentDisposition } from './blob-response.ts';
import { DEFAULT_MAP_BLOB_LIMITS } from './blobs.ts';
import type { MapFormats } from './formats.ts';
import type { Caller, MapsIdentity } from './ports.ts';
import {
  BlobAdded,
  BlobParams,
  CreateMapBody,
  CreateVersionBody,
  DocumentJson,
  ExportQuery,
  ImportResult,
  MapIdParams,
  MapList,
  MapSummary,
  OrgParams,
  OrgStorage,
  RenameMapBody,
  RestoreResult,
  Share,
  ShareBody,
  ShareList,
  ShareParams,
  Version,
  VersionList,
  VersionParams,
} from './schemas.ts';
import type { MapBlobAccess } from './blob-access.ts';
import type { MapsService } from './service.ts';

const tags = ['maps'];

/** The import route's body limit: packages/formats' own input limit (`DEFAULT_LIMITS.maxInputBytes`). */
export const IMPORT_BODY_LIMIT = DEFAULT_LIMITS.maxInputBytes;

export function installMapRoutes(
  scope: FastifyInstance,
  deps: {
    service: MapsService;
    blobAccess: MapBlobAccess;
    identity: MapsIdentity;
    formats: MapFormats;
    access: FastifyContextConfig;
    importBodyLimit?: number;
  },
): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { service, blobAccess, identity, formats } = deps;
  const config = deps.access;
  const caller = async (request: FastifyRequest): Promise<Caller> => {
    const c = await identity.caller(request);
    if (!c) throw unauthenticated();
    return c;
  };

  app.post(
    '/maps',
    { config, schema: { tags, summary: 'Create a map', body: CreateMapBody, response: { 201: MapSummary } } },
    async (request, reply) =>
      reply.status(201).send(await service.create(await caller(request), request.body.title)),
  );

  app.get(
    '/maps',
    {
      config,
      schema: { tags, summary: 'Maps I own or that were shared with me', response: { 200: MapList } },
    },
    async (request) => ({
      items: await service.list(await caller(request)),
    }),
  );

  app.get(
    '/maps/:id',
    { config, schema: { tags, summary: 'A map', params: MapIdParams, response: { 200: MapSummary } } },
    async (request) => service.get(await caller(request), request.params.id),
  );

  app.get(
    '/maps/:id/document',
    {
      config,
      schema: {
        tags,
        summary: 'The map as document JSON',
        params: MapIdParams,
        response: { 200: DocumentJson },
      },
    },
    async (request) => service.document(await caller(request), request.params.id),
  );

  app.patch(
    '/maps/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Rename a map (owner or editor): a change to the document title, like an edit',
        params: MapIdParams,
        body: RenameMapBody,
        response: { 200: MapSummary },
      },
    },
    async (request) => service.rename(await caller(request), request.params.id, request.body.title),
  );

  app.delete(
    '/maps/:id',
    { config, schema: { tags, summary: 'Delete a map (owner)', params: MapIdParams } },
    async (request, reply) => {
      await service.remove(await caller(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/maps/:id/shares',
    {
      config,
      schema: {
        tags,
        summary: 'Share with a person of the organisation',
        params: MapIdParams,
        body: ShareBody,
        response: { 201: Share },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await service.share(
            await caller(request),
            request.params.id,
            request.body.email,
            request.body.role,
          ),
        ),
  );

  app.get(
    '/maps/:id/shares',
    {
      config,
      schema: {
        tags,
        summary: 'Who the map is shared with',
        params: MapIdParams,
        response: { 200: ShareList },
      },
    },
    async (request) => ({ items: await service.shares(await caller(request), request.params.id) }),
  );

  app.delete(
    '/maps/:id/shares/:accountId',
    {
      config,
      schema: {
        tags,
        summary: 'Stop sharing with a person (takes effect in live sessions at once)',
        params: ShareParams,
      },
    },
    async (request, reply) => {
      await service.unshare(await caller(request), request.params.id, request.params.accountId);
      return reply.status(204).send();
    },
  );

  app.get(
    '/maps/:id/versions',
    {
      config,
      schema: {
        tags,
        summary: 'Named versions, newest first',
        params: MapIdParams,
        response: { 200: VersionList },
      },
    },
    async (request) => ({ items: await service.versions(await caller(request), request.params.id) }),
  );

  app.post(
    '/maps/:id/versions',
    {
      config,
      schema: {
        tags,
        summary: 'Save the current state as a named version',
        params: MapIdParams,
        body: CreateVersionBody,
        response: { 201: Version },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await service.saveVersion(await caller(request), request.params.id, request.body.name)),
  );

  app.post(
    '/maps/:id/versions/:versionId/restore',
    {
      config,
      schema: {
        tags,
        summary: 'Restore a version (as a new change; the state before is saved as a version)',
        params: VersionParams,
        response: { 200: RestoreResult },
      },
    },
    async (request) =>
      service.restoreVersion(await caller(request), request.params.id, request.params.versionId),
  );

  app.get(
    '/maps/:id/blobs/:blobId',
    {
      config,
      schema: {
        tags,
        summary: "One of the map's images or attachments (viewer and up; blobId is the document's ref)",
        description:
          'The bytes of a topic image or attachment, by the `ref` the document gives it (`sha256:<hex>`, ' +
          'URL-encoded). Content-addressed, so cacheable for good (ETag is the hash). Raster images ' +
          '(PNG, JPEG, GIF, WebP) whose bytes match their type are served inline; everything else, SVG ' +
          'included, as an attachment. 404 for a map the caller cannot read or a ref the map does not use.',
        params: BlobParams,
        response: {
          200: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' }),
          304: Type.Null(),
        },
      },
    },
    async (request, reply) => {
      const who = await caller(request);
      const blob = await blobAccess.blob(who, request.params.id, request.params.blobId);
      const hex = request.params.blobId.slice('sha256:'.length);
      const etag = `"${hex}"`;
      reply
        .header('etag', etag)
        .header('cache-control', 'private, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff');
      const inm = request.headers['if-none-match'];
      if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))
        return reply.status(304).send(null);
      const data = await blob.read();
      const served = blobResponse(data, blob.use.mimeType);
      return reply
        .header('content-type', served.contentType)
        .header('content-disposition', contentDisposition(served.disposition, blob.use.name))
        .send(data);
    },
  );

  // An org admin's view of the quota: the platform's auth checks the role in the org (`org-admin`).
  app.get(
    '/orgs/:orgId/storage',
    {
      config: { access: 'org-admin' },
      schema: {
        tags,
        summary: "Bytes of images and attachments the organisation's maps hold, and the quota (org admin)",
        description:
          'What counts against the quota that uploads and imports meet (413 `blob_quota_exceeded`): every ' +
          "image and attachment stored for the organisation's maps, once per map (the same file in two maps " +
          'counts twice), until it is deleted with its map or 30 days after no map uses it. Exact once the ' +
          'daily sweep has run; in between it may miss a blob whose upload was cut short by a crash. `maps`: ' +
          'the 20 maps counting the most, with their owners; a title only for a map shared with the caller.',
        params: OrgParams,
        response: { 200: OrgStorage },
      },
    },
    async (request) => blobAccess.storage(await caller(request), request.params.orgId),
  );

  // Uploads keep their exact bytes (their hash is their name), whatever their type: JSON and text included.
  void app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    uploads.withTypeProvider<TypeBoxTypeProvider>().post(
      '/maps/:id/blobs',
      {
        config,
        bodyLimit: service.blobs?.limits.maxBlobBytes ?? DEFAULT_MAP_BLOB_LIMITS.maxBlobBytes,
        schema: {
          tags,
          summary: 'Add an image or attachment to a map (editor and up; raw body with its Content-Type)',
          description:
            'Stores the bytes and answers the `ref` (`sha256:<hex>`) to put in a topic image or attachment with an ' +
            'edit; `GET /maps/{id}/blobs/{blobId}` serves it once the document uses it. The same bytes twice are ' +
            'stored once. Over 25 MiB (server default): 413 `too_large`; an empty body: 400 ' +
            "`empty_blob`; past the organisation's quota for images and attachments (10 GiB by default): 413 " +
            '`blob_quota_exceeded`. A blob that nothing in the map uses for 30 days is deleted.',
          params: MapIdParams,
          response: { 201: BlobAdded },
        },
      },
      async (request, reply) => {
        const who = await caller(request);
        const raw = request.body;
        const data = raw instanceof Uint8Array ? raw : new Uint8Array();
        const mimeType = mediaType(request.headers['content-type']);
        return reply.status(201).send(await blobAccess.addBlob(who, request.params.id, data, mimeType));
      },
    );
  });

  // An import is read by packages/formats from its exact bytes, whatever its type, JSON included (it bounds the
  // depth and size itself; a JSON body parsed here first could nest deeper than JSON.stringify's stack).
  void app.register(async (imports) => {
    imports.removeAllContentTypeParsers();
    imports.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    imports.post(
      '/maps/import',
      {
        config,
        // Files with images run past the API's default body limit; packages/formats bounds the input itself.
        bodyLimit: deps.importBodyLimit ?? IMPORT_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Import a file (raw body with its Content-Type; ?filename=)',
          description:
            "The file's images and attachments are kept in the blob store (read them with " +
            '`GET /maps/{id}/blobs/{blobId}`). Over 25 MiB for one of them, or 100 MiB for all of a file ' +
            "(server defaults): 413 `map_blobs_too_large`; past the organisation's quota for images and " +
            'attachments: 413 `blob_quota_exceeded`; either way nothing is stored.',
          response: { 201: ImportResult },
        },
      },
      async (request, reply) => {
        const who = await caller(request);
        const query = request.query as { filename?: string };
        const raw = request.body;
        const bytes = raw instanceof Uint8Array ? raw : new Uint8Array();
        const options: { filename?: string; mimeType?: string } = {};
        if (typeof query.filename === 'string') options.filename = query.filename;
        if (request.headers['content-type']) options.mimeType = request.headers['content-type'];
        const imported = formats.importMap(bytes, options);
        const title = imported.document.title || imported.document.root.text || 'Imported map';
        const { map, warnings } = await service.importDocument(
          who,
          title,
          imported.document,
          imported.blobs ?? new Map(),
        );
        return reply
          .status(201)
          .send({ id: map.id, title: map.title, warnings: [...imported.warnings, ...warnings] });
      },
    );
  });

  app.get(
    '/maps/:id/export',
    { config, schema: { tags, summary: 'Export as a file', params: MapIdParams, querystring: ExportQuery } },
    async (request, reply) => {
      const who = await caller(request);
      const map = await service.get(who, request.params.id);
      const document = await service.document(who, request.params.id);
      const blobs = await blobAccess.blobsFor(who, request.params.id, document);
      const out = formats.exportMap(
        document,
        request.query.format as Parameters<MapFormats['exportMap']>[1],
        {
          blobs,
        },
      );
      const name = (map.title || 'map').replace(/[^\p{L}\p{N} ._-]+/gu, '_').slice(0, 100);
      return reply
        .header('content-type', out.mimeType)
        .header(
          'content-disposition',
          `attachment; filename="${name}.${out.extension}"; filename*=UTF-8''${encodeURIComponent(`${name}.${out.extension}`)}`,
        )
        .header('x-canopy-export-warnings', String(out.warnings.length))
        .send(Buffer.from(out.data));
    },
  );
}

/** The body's media type without parameters, or `application/octet-stream` when there is none or it is not one. */
function mediaType(header: string | undefined): string {
  const type = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(type)
    ? type
    : 'application/octet-stream';
}
