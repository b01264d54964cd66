// `goman token create|list|revoke` (admin): tokens are shown once, at creation.
import { UsageError } from '../errors.ts';
import type { TokenRole } from '../../domain/index.ts';
import type { GlobalOptions } from '../session.ts';
import { openServerSession, writeList } from '../session.ts';
import { age, serialize } from '../output.ts';

const serverSession = (flags: GlobalOptions) => openServerSession(flags, 'tokens belong to a goman server');

export async function createToken(flags: GlobalOptions & { subject: string; role: TokenRole; expiresIn?: string }): Promise<void> {
  const s = await serverSession(flags);
  const created = await s.backend.client.createToken({ subject: flags.subject, role: flags.role, ...(flags.expiresIn ? { expiresIn: flags.expiresIn } : {}) });
  if (s.format !== 'table') {
    s.write(await serialize(created, s.format));
    return;
  }
  // The token alone on stdout, so `TOKEN=$(goman token create ...)` works; the rest for people.
  process.stderr.write(`token ${created.id} for ${created.subject} (${created.role})${created.expiresAt ? `, expires ${created.expiresAt}` : ''}; it is shown only now\n`);
  s.write(`${created.token}\n`);
}

export async function listTokens(flags: GlobalOptions): Promise<void> {
  const s = await serverSession(flags);
  const { items } = await s.backend.client.listTokens();
  await writeList(
    s,
    { items },
    items,
    [{ header: 'ID' }, { header: 'SUBJECT', flexible: true }, { header: 'ROLE' }, { header: 'AGE' }, { header: 'EXPIRES' }],
    (t, now) => [t.id, t.subject, t.role, age(t.createdAt, now), t.expiresAt ?? 'never'],
  );
}

const TOKEN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function revokeToken(id: string, flags: GlobalOptions): Promise<void> {
  // The id, not the token itself: say so before the server answers with a schema error.
  if (!TOKEN_ID.test(id)) throw new UsageError(`"${id}" is not a token id; ids are the UUIDs in the ID column of \`goman token list\``);
  const s = await serverSession(flags);
  await s.backend.client.revokeToken(id);
  s.write(`token ${id} revoked\n`);
}
