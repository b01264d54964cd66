// Reading node-configuration documents: YAML or JSON (which YAML parses too), schema-checked.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GomanError, validationFailed } from '../domain/errors.ts';
import { recipeResultSchema, snapshotSchema, type RecipeResult, type Snapshot } from './types.ts';

export async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new GomanError('NOT_FOUND', `${file} not found`);
    throw e;
  }
  try {
    return parseYaml(text) as unknown;
  } catch (e) {
    throw validationFailed(`${file}: not YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, doc: unknown, what: string): T {
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  throw validationFailed(
    `${what} is not valid`,
    r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

export const parseSnapshot = (doc: unknown, what = 'snapshot'): Snapshot => parseWith(snapshotSchema, doc, what);
export const parseRecipe = (doc: unknown, what = 'recipe'): RecipeResult => parseWith(recipeResultSchema, doc, what);
