// `goman logs [--follow] [--since 1h] [--cluster NAME]` (docs/aws.md#logs): for an S3 context
// the serverless controller's CloudWatch Logs (the log group `goman init` made); for a server
// context the controllers' events the server recorded in the clusters' histories.
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { createAwsClients } from '../../aws/clients.ts';
import { logGroupFor } from '../../aws/names.ts';
import type { ClusterBackend } from '../../client/backend.ts';
import type { HistoryEntry } from '../../domain/index.ts';
import { sleepUnlessAborted } from '../../util/sleep.ts';
import { clusterName, parseDuration } from '../flags.ts';
import { openSession, type GlobalOptions } from '../session.ts';

export interface LogsFlags extends GlobalOptions {
  follow?: boolean;
  since?: string;
  cluster?: string;
}

/** How often --follow asks again. */
const FOLLOW_EVERY_MS = 2000;
/** Entries of one cluster's history read per look (the newest; older ones scrolled by long ago). */
const HISTORY_PAGE = 200;

export async function logs(flags: LogsFlags): Promise<void> {
  const sinceMs = parseDuration(flags.since ?? '1h', '--since');
  if (flags.cluster !== undefined) clusterName(flags.cluster);
  const s = await openSession(flags);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const read = s.context.kind === 's3' ? cloudWatchReader(s.context.region, logGroupFor(s.context.namespace), flags.cluster) : historyReader(s.backend, flags.cluster);
  const seen = new Set<string>();
  let from = Date.now() - sinceMs;
  for (;;) {
    const lines = (await read(from)).filter((l) => !seen.has(l.id));
    for (const line of lines) {
      seen.add(line.id);
      s.write(s.format === 'json' ? `${JSON.stringify(line)}\n` : `${new Date(line.at).toISOString()} ${line.text}\n`);
      from = Math.max(from, line.at);
    }
    if (!flags.follow) return;
    await sleepUnlessAborted(FOLLOW_EVERY_MS, abort.signal);
    if (abort.signal.aborted) return;
  }
}

interface LogLine {
  id: string;
  /** Milliseconds since the epoch. */
  at: number;
  text: string;
}

type Reader = (fromMs: number) => Promise<LogLine[]>;

function cloudWatchReader(region: string, logGroupName: string, cluster: string | undefined): Reader {
  const logs = createAwsClients(region).logs();
  return async (fromMs) => {
    const out: LogLine[] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(
        // A quoted term matches the cluster's name anywhere in a line (the controller logs it).
        new FilterLogEventsCommand({ logGroupName, startTime: fromMs, nextToken, ...(cluster ? { filterPattern: `"${cluster}"` } : {}) }),
      );
      for (const e of page.events ?? []) out.push({ id: e.eventId ?? `${e.logStreamName}:${e.timestamp}`, at: e.timestamp ?? 0, text: (e.message ?? '').trimEnd() });
      nextToken = page.nextToken;
    } while (nextToken);
    return out.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  };
}

function historyReader(backend: ClusterBackend, cluster: string | undefined): Reader {
  return async (fromMs) => {
    const names = cluster ? [cluster] : (await backend.list({ limit: 500 })).items.map((c) => c.name);
    const out: LogLine[] = [];
    for (const name of names) {
      const page = await backend.events(name, { limit: HISTORY_PAGE });
      for (const e of page.items) if (Date.parse(e.at) >= fromMs) out.push(historyLine(name, e));
    }
    return out.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  };
}

function historyLine(cluster: string, e: HistoryEntry): LogLine {
  return { id: e.id, at: Date.parse(e.at), text: `${cluster} ${e.kind} gen=${e.generation} ${e.message}` };
}
