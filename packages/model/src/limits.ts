/**
 * Hard caps that a server enforces on every document it accepts (imports, loads, remote updates) and that the
 * local operations refuse to exceed. They bound memory and CPU per map; they are part of the API.
 */

/** Live topics in one map (central, floating, children, summary topics). */
export const MAX_TOPICS = 20_000;
/** Depth of the topic tree: the central topic and each floating topic are at depth 1. */
export const MAX_TOPIC_DEPTH = 256;
/** Characters (UTF-16 code units) of one topic's text. */
export const MAX_TEXT_LENGTH = 10_000;
/** Characters of one topic's notes (sanitised XHTML). */
export const MAX_NOTES_LENGTH = 200_000;
/** Characters of the map title. */
export const MAX_TITLE_LENGTH = 1_000;
/** Items in one topic's list field (links, icons, tags, attachments, boundaries). */
export const MAX_LIST_ITEMS = 256;
/** Relationships (cross-links) in one map. */
export const MAX_RELATIONSHIPS = 10_000;
/** Entries of the map-level `meta` record. */
export const MAX_META_ENTRIES = 256;
/** Characters of any id, meta key or short string field (labels, colours, names, URLs). */
export const MAX_SHORT_STRING_LENGTH = 4_096;
/** Bytes of one update accepted by `importUpdates`. */
export const MAX_UPDATE_BYTES = 16 * 1024 * 1024;
/** Bytes of one snapshot accepted by `MindMap.fromSnapshot`. */
export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;
