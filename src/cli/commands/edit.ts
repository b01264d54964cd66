// `goman edit NAME`: the spec and labels in $EDITOR as YAML, validated with the domain schemas;
// invalid input re-opens the editor with the error on top, no change aborts, and the write
// carries If-Match so someone else's change in between is a conflict, not an overwrite.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { clusterSpecSchema, labelsSchema, stableStringify } from '../../domain/spec.ts';
import { GomanError } from '../../domain/errors.ts';
import { fieldErrorsText, zodFieldErrors } from '../../domain/zod-errors.ts';
import { clusterName } from '../flags.ts';
import type { GlobalOptions } from '../session.ts';
import { openSession } from '../session.ts';
import { serialize } from '../output.ts';

const editableSchema = z.strictObject({ labels: labelsSchema.default({}), spec: clusterSpecSchema });

const HEADER = '# Edit the spec and labels below; save and quit to apply, or quit without changes to abort.\n# Lines starting with "#" are ignored.\n';

export async function edit(name: string, flags: GlobalOptions): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const { value: cluster, etag } = await s.backend.get(name);
  const { stringify, parse } = await import('yaml');
  const original = { labels: cluster.labels, spec: cluster.spec };
  const dir = await mkdtemp(path.join(tmpdir(), 'goman-edit-'));
  const file = path.join(dir, `${name}.yaml`);
  try {
    let problem: string | undefined;
    let rejected: string | undefined;
    let text = `${HEADER}# cluster ${name}, generation ${cluster.generation}\n${stringify(original)}`;
    for (;;) {
      await writeFile(file, text, { mode: 0o600 });
      runEditor(file);
      const edited = await readFile(file, 'utf8');
      const body = edited.replace(/^#.*\n/gm, '');
      // After an error, text that is still the rejected text means "give up", as in kubectl
      // edit: an editor (or script) that keeps writing the same thing would otherwise loop.
      if (problem !== undefined && (edited === text || body === rejected)) {
        throw new GomanError('VALIDATION_FAILED', `edit cancelled, the same invalid text again: ${problem}`);
      }
      if (body.trim() === '') {
        process.stderr.write('edit cancelled: the file is empty\n');
        return;
      }
      let parsed: ReturnType<typeof editableSchema.safeParse>;
      try {
        parsed = editableSchema.safeParse(parse(body));
      } catch (e) {
        problem = `not valid YAML: ${(e as Error).message.split('\n')[0]}`;
        rejected = body;
        text = `# error: ${problem}\n${HEADER}${body}`;
        continue;
      }
      if (!parsed.success) {
        problem = fieldErrorsText(zodFieldErrors(parsed.error));
        rejected = body;
        text = `# error: ${problem.replace(/\n/g, ' ')}\n${HEADER}${body}`;
        continue;
      }
      if (stableStringify(parsed.data) === stableStringify(original)) {
        process.stderr.write('edit cancelled, no changes made\n');
        return;
      }
      // Labels removed in the editor must be removed on the server: merge patch null.
      const labels: Record<string, string | null> = { ...parsed.data.labels };
      for (const k of Object.keys(original.labels)) if (!(k in parsed.data.labels)) labels[k] = null;
      const updated = await s.backend.patch(name, { spec: parsed.data.spec, labels }, etag);
      if (s.format === 'table') s.write(`cluster ${name} edited (generation ${updated.generation})\n`);
      else s.write(await serialize(updated, s.format));
      return;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** $VISUAL or $EDITOR (may carry arguments, e.g. "code --wait"), else vi. */
function runEditor(file: string): void {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  // The file name is passed as "$1", never interpolated into the shell line.
  const res = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'goman-edit', file], { stdio: 'inherit' });
  if (res.error) throw new Error(`cannot run editor "${editor}": ${res.error.message}`);
  if (res.status !== 0) throw new Error(`editor "${editor}" exited with status ${res.status ?? res.signal}; nothing changed`);
}
