/**
 * Schemas of the settable topic fields, checked on every local write and on every accepted remote state.
 * Built from the contract in document.ts so the two never drift.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ModelError } from './errors.ts';
import {
  AttachmentSchema,
  BoundarySchema,
  ImageSchema,
  LinkSchema,
  TaskSchema,
  TextRunSchema,
  TopicStyleSchema,
} from './document.ts';
import { MAX_LIST_ITEMS, MAX_NOTES_LENGTH, MAX_SHORT_STRING_LENGTH, MAX_TEXT_LENGTH } from './limits.ts';

const ShortString = Type.String({ maxLength: MAX_SHORT_STRING_LENGTH });
const list = (item: TSchema) => Type.Array(item, { maxItems: MAX_LIST_ITEMS });

export const PositionSchema = Type.Object({ x: Type.Number(), y: Type.Number() });

export const FIELD_SCHEMAS = {
  text: Type.String({ maxLength: MAX_TEXT_LENGTH }),
  richText: Type.Array(TextRunSchema, { maxItems: MAX_TEXT_LENGTH }),
  notesHtml: Type.String({ maxLength: MAX_NOTES_LENGTH }),
  links: list(LinkSchema),
  icons: list(ShortString),
  task: TaskSchema,
  tags: list(ShortString),
  image: ImageSchema,
  attachments: list(AttachmentSchema),
  style: TopicStyleSchema,
  collapsed: Type.Boolean(),
  position: PositionSchema,
  boundaries: list(BoundarySchema),
} as const satisfies Record<string, TSchema>;

export const SummaryFlagSchema = Type.Object({
  id: ShortString,
  from: Type.Integer({ minimum: 0 }),
  to: Type.Integer({ minimum: 0 }),
});

export type FieldName = keyof typeof FIELD_SCHEMAS;
export const isFieldName = (key: string): key is FieldName => Object.hasOwn(FIELD_SCHEMAS, key);

/** The first problem of `value` against `schema`, or undefined when it conforms. */
export function schemaProblem(schema: TSchema, value: unknown, where: string): string | undefined {
  if (Value.Check(schema, value)) return undefined;
  const first = Value.Errors(schema, value).First();
  return `${where}${first?.path ?? ''}: ${first?.message ?? 'invalid value'}`;
}

/** Problems of a `TopicFields` object given to an operation (unknown keys included). */
export function fieldsProblems(fields: object, where: string): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!isFieldName(key)) {
      problems.push(`${where}.${key}: not a settable topic field`);
      continue;
    }
    const problem = schemaProblem(FIELD_SCHEMAS[key], value, `${where}.${key}`);
    if (problem) problems.push(problem);
  }
  const { text, richText } = fields as { text?: unknown; richText?: { text: string }[] };
  if (Array.isArray(richText) && problems.length === 0) {
    const joined = richText.map((run) => run.text).join('');
    if (joined.length > MAX_TEXT_LENGTH) problems.push(`${where}.richText: longer than ${MAX_TEXT_LENGTH}`);
    if (typeof text === 'string' && text !== joined) {
      problems.push(`${where}.richText: runs must concatenate to the topic text`);
    }
  }
  return problems;
}

/** Throws `invalid-field` with every problem of `fields`. */
export function assertFields(fields: object): void {
  const problems = fieldsProblems(fields, 'fields');
  if (problems.length > 0) throw new ModelError('invalid-field', problems[0] ?? 'invalid field', problems);
}

export function assertValue(schema: TSchema, value: unknown, where: string): void {
  const problem = schemaProblem(schema, value, where);
  if (problem) throw new ModelError('invalid-field', problem, [problem]);
}
