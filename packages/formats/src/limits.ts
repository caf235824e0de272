/** Bounds on hostile input. Every check runs before the work it guards (see README.md, "Limits"). */
export interface ImportLimits {
  /** Size of the file as uploaded. */
  maxInputBytes: number;
  /** Entries in a ZIP container (.mmap, .xmind). */
  maxZipEntries: number;
  /** Inflated size of any one ZIP entry, declared and actual. */
  maxEntryBytes: number;
  /** Inflated size of all the ZIP entries read, declared and actual. */
  maxTotalInflatedBytes: number;
  /** Depth of the topic tree (the central topic is depth 0). XML and JSON nesting is bounded from it. */
  maxDepth: number;
  /** Topics in the map, floating topics and summary topics included. */
  maxTopics: number;
}

export const DEFAULT_LIMITS: ImportLimits = {
  maxInputBytes: 64 * 1024 * 1024,
  maxZipEntries: 4096,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalInflatedBytes: 512 * 1024 * 1024,
  maxDepth: 256,
  maxTopics: 250_000,
};

export function resolveLimits(partial: Partial<ImportLimits> | undefined): ImportLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}

/** Nesting allowed in XML/JSON containers: several container levels per topic level, plus document framing. */
export function maxMarkupDepth(limits: ImportLimits): number {
  return limits.maxDepth * 4 + 64;
}
