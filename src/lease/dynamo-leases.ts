// Leases with fencing on DynamoDB (DESIGN §6, §8): one item per resource in
// `goman-resource-locks`. Every change is a conditional write; a lost race shows up as
// ConditionalCheckFailedException, which here means "someone else holds it", never an error.
// `expires_at` (epoch seconds) feeds DynamoDB TTL; it lies a day past expiry so an item, and
// with it the fencing counter, outlives any holder that could still present an old token.
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Lease, LeaseStore } from './port.ts';
import { awsErrorName } from '../aws/clients.ts';
import { LOCK_TABLE } from '../aws/names.ts';

const TTL_GRACE_S = 24 * 3600;

const num = (n: number): AttributeValue => ({ N: String(n) });
/** `expires_at` for DynamoDB TTL: epoch seconds, a day past the expiry. */
const ttlOf = (expiresMs: number): AttributeValue => num(Math.ceil(expiresMs / 1000) + TTL_GRACE_S);

export class DynamoLeaseStore implements LeaseStore {
  private readonly ddb: DynamoDBClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(ddb: DynamoDBClient, opts: { table?: string; now?: () => number } = {}) {
    this.ddb = ddb;
    this.table = opts.table ?? LOCK_TABLE;
    this.now = opts.now ?? Date.now;
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const now = this.now();
    const expires = now + ttlMs;
    const values = { ':now': num(now), ':owner': { S: owner }, ':exp': num(expires), ':ttl': ttlOf(expires) };
    const item =
      (await this.update(name, 'attribute_not_exists(resource_id) OR expires_ms <= :now', 'SET #owner = :owner, expires_ms = :exp, expires_at = :ttl ADD fence :one', {
        ...values,
        ':one': num(1),
      })) ??
      // The holder acquiring again keeps its token (one UpdateItem cannot both ADD and not ADD).
      (await this.update(name, '#owner = :owner AND expires_ms > :now', 'SET expires_ms = :exp, expires_at = :ttl', values));
    return item ? { name, owner, token: Number(item.fence?.N ?? 0), expiresAt: new Date(expires).toISOString() } : null;
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const now = this.now();
    const expires = now + ttlMs;
    // Same owner, same token and not yet expired: a lapsed lease is free for anyone, so its old
    // holder must acquire it again like everyone else (the SQL stores agree).
    const item = await this.update(lease.name, '#owner = :owner AND fence = :fence AND expires_ms > :now', 'SET expires_ms = :exp, expires_at = :ttl', {
      ':owner': { S: lease.owner },
      ':fence': num(lease.token),
      ':now': num(now),
      ':exp': num(expires),
      ':ttl': ttlOf(expires),
    });
    return item ? { ...lease, expiresAt: new Date(expires).toISOString() } : null;
  }

  /** Keeps the item (and its fence counter); only the expiry drops, so anyone may take it. */
  async releaseLease(lease: Lease): Promise<void> {
    await this.update(lease.name, '#owner = :owner AND fence = :fence', 'SET expires_ms = :zero', { ':owner': { S: lease.owner }, ':fence': num(lease.token), ':zero': num(0) });
  }

  /** One conditional write: the item as it is now, or null when the condition did not hold. */
  private async update(name: string, condition: string, update: string, values: Record<string, AttributeValue>): Promise<Record<string, AttributeValue> | null> {
    try {
      const out = await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { resource_id: { S: name } },
          ConditionExpression: condition,
          UpdateExpression: update,
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ?? {};
    } catch (e) {
      if (awsErrorName(e) === 'ConditionalCheckFailedException') return null;
      throw e;
    }
  }

  async checkFence(name: string, token: number): Promise<boolean> {
    const out = await this.ddb.send(new GetItemCommand({ TableName: this.table, Key: { resource_id: { S: name } }, ConsistentRead: true }));
    const item = out.Item;
    return Boolean(item) && Number(item?.fence?.N) === token && Number(item?.expires_ms?.N) > this.now();
  }
}
