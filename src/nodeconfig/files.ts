// Reading node-configuration documents: YAML or JSON (which YAML parses too), schema-checked.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GomanError, validationFailed } from '../domain/errors.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';
import { fileProblem } from '../util/files.ts';
import { recipeResultSchema, snapshotSchema, type RecipeResult, type Snapshot } from './types.ts';

export async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new GomanError('NOT_FOUND', `${file} not found`);
    throw validationFailed(`cannot read ${file}: ${fileProblem(e, file)}`);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (e) {
    throw validationFailed(`${file}: not YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** One line: the first problem, how many more, and how to make the right kind of document. */
function parseWith<T>(schema: z.ZodType<T>, doc: unknown, what: string, kind: string, howTo: string): T {
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const [first, ...rest] = zodFieldErrors(r.error);
  const more = rest.length ? ` (and ${rest.length} more problems)` : '';
  const where = first ? `${first.path}: ${first.message.replace(/^Invalid input: /, '')}` : 'invalid';
  throw validationFailed(`${what} is not a ${kind}: ${where}${more}; ${howTo}`);
}

export const parseSnapshot = (doc: unknown, what = 'snapshot'): Snapshot =>
  parseWith(snapshotSchema, doc, what, 'snapshot', 'write one with `goman snapshot --file FILE`');
export const parseRecipe = (doc: unknown, what = 'recipe'): RecipeResult =>
  parseWith(recipeResultSchema, doc, what, 'recipe', 'write one with `goman recipe > FILE`');
