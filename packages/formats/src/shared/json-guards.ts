import { FormatError } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Rejects JSON nested deeper than `maxDepth` before it is parsed (a linear scan that skips strings). */
export function checkJsonDepth(text: string, maxDepth: number, source: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth)
        throw new FormatError('too_deep', `${source}: JSON nested deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

export function parseJson(text: string, maxDepth: number, source: string): unknown {
  checkJsonDepth(text, maxDepth, source);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FormatError(
      'invalid_file',
      `${source}: ${error instanceof Error ? error.message : 'malformed JSON'}`,
      { cause: error },
    );
  }
}
