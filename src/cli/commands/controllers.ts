// `goman controllers list|remove` (admin): see which controllers the server counts on, and
// retire one that is gone so no cluster waits for it.
import type { GlobalOptions } from '../session.ts';
import { openServerSession, writeList } from '../session.ts';
import { age } from '../output.ts';

const serverSession = (flags: GlobalOptions) => openServerSession(flags, 'controllers register with a goman server');

export async function listControllers(flags: GlobalOptions): Promise<void> {
  const s = await serverSession(flags);
  const { items } = await s.backend.client.listControllers();
  await writeList(
    s,
    { items },
    items,
    [{ header: 'NAME' }, { header: 'PROVIDERS', flexible: true }, { header: 'REQUIRED' }, { header: 'REGISTERED' }, { header: 'LAST HEARTBEAT' }],
    (c, now) => [c.name, c.providers.join(','), c.required ? 'yes' : 'no', age(c.registeredAt, now), `${age(c.lastHeartbeat, now)} ago`],
  );
}

export async function removeController(name: string, flags: GlobalOptions): Promise<void> {
  const s = await serverSession(flags);
  await s.backend.client.deregisterController(name);
  s.write(`controller ${name} removed; clusters no longer wait for it (check the cloud for anything it had not cleaned up)\n`);
}
