// `goman controllers list|remove` (admin): see which controllers the server counts on, and
// retire one that is gone so no cluster waits for it.
import { GomanError } from '../../domain/errors.ts';
import type { ServerBackend } from '../../client/http-backend.ts';
import type { GlobalOptions, Session } from '../session.ts';
import { openSession } from '../session.ts';
import { age, formatTable, serialize } from '../output.ts';

async function serverSession(flags: GlobalOptions): Promise<Session & { backend: ServerBackend }> {
  const s = await openSession(flags);
  if (s.backend.kind !== 'server') throw new GomanError('VALIDATION_FAILED', `controllers register with a goman server; context "${s.context.name}" is an S3 context`);
  return s as Session & { backend: ServerBackend };
}

export async function listControllers(flags: GlobalOptions): Promise<void> {
  const s = await serverSession(flags);
  const { items } = await s.backend.client.listControllers();
  if (s.format !== 'table') {
    s.write(await serialize({ items }, s.format));
    return;
  }
  const now = new Date();
  s.write(
    formatTable(
      [{ header: 'NAME' }, { header: 'PROVIDERS', flexible: true }, { header: 'REQUIRED' }, { header: 'REGISTERED' }, { header: 'LAST HEARTBEAT' }],
      items.map((c) => [c.name, c.providers.join(','), c.required ? 'yes' : 'no', age(c.registeredAt, now), `${age(c.lastHeartbeat, now)} ago`]),
      { width: s.term.columns },
    ),
  );
}

export async function removeController(name: string, flags: GlobalOptions): Promise<void> {
  const s = await serverSession(flags);
  await s.backend.client.deregisterController(name);
  s.write(`controller ${name} removed; clusters no longer wait for it (check the cloud for anything it had not cleaned up)\n`);
}
