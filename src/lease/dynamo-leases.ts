// Leases with fencing on DynamoDB (DESIGN §6, §8): one item per resource in
// `goman-resource-locks`. Every change is a conditional write; a lost race shows up as
// ConditionalCheckFailedException, which here means "someone else holds it", never an error.
// `expires_at` (epoch seconds) feeds DynamoDB TTL; it lies a day past expiry so an item, and
// with it the fencing counter, outlives any holder that could still present an old token.
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Lease, LeaseStore } from './port.ts';
import { awsErrorName } from '../aws/clients.ts';
import { LOCK_TABLE } from '../aws/names.ts';

const TTL_GRACE_S = 24 * 3600;

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
    try {
      const out = await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { resource_id: { S: name } },
          ConditionExpression: 'attribute_not_exists(resource_id) OR expires_ms <= :now',
          UpdateExpression: 'SET #owner = :owner, expires_ms = :exp, expires_at = :ttl ADD fence :one',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':now': { N: String(now) },
            ':owner': { S: owner },
            ':exp': { N: String(expires) },
            ':ttl': { N: String(Math.ceil(expires / 1000) + TTL_GRACE_S) },
            ':one': { N: '1' },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { name, owner, token: Number(out.Attributes?.fence?.N ?? 0), expiresAt: new Date(expires).toISOString() };
    } catch (e) {
      if (awsErrorName(e) !== 'ConditionalCheckFailedException') throw e;
    }
    return this.extendOwn(name, owner, now, expires);
  }

  /** The holder acquiring again keeps its token (one UpdateItem cannot both ADD and not ADD). */
  private async extendOwn(name: string, owner: string, now: number, expires: number): Promise<Lease | null> {
    try {
      const out = await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { resource_id: { S: name } },
          ConditionExpression: '#owner = :owner AND expires_ms > :now',
          UpdateExpression: 'SET expires_ms = :exp, expires_at = :ttl',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':now': { N: String(now) },
            ':owner': { S: owner },
            ':exp': { N: String(expires) },
            ':ttl': { N: String(Math.ceil(expires / 1000) + TTL_GRACE_S) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { name, owner, token: Number(out.Attributes?.fence?.N ?? 0), expiresAt: new Date(expires).toISOString() };
    } catch (e) {
      if (awsErrorName(e) === 'ConditionalCheckFailedException') return null;
      throw e;
    }
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const now = this.now();
    const expires = now + ttlMs;
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { resource_id: { S: lease.name } },
          // Same owner, same token and not yet expired: a lapsed lease is free for anyone, so
          // its old holder must acquire it again like everyone else (the SQL stores agree).
          ConditionExpression: '#owner = :owner AND fence = :fence AND expires_ms > :now',
          UpdateExpression: 'SET expires_ms = :exp, expires_at = :ttl',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': { S: lease.owner },
            ':fence': { N: String(lease.token) },
            ':now': { N: String(now) },
            ':exp': { N: String(expires) },
            ':ttl': { N: String(Math.ceil(expires / 1000) + TTL_GRACE_S) },
          },
        }),
      );
      return { ...lease, expiresAt: new Date(expires).toISOString() };
    } catch (e) {
      if (awsErrorName(e) === 'ConditionalCheckFailedException') return null;
      throw e;
    }
  }

  /** Keeps the item (and its fence counter); only the expiry drops, so anyone may take it. */
  async releaseLease(lease: Lease): Promise<void> {
    try {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { resource_id: { S: lease.name } },
          ConditionExpression: '#owner = :owner AND fence = :fence',
          UpdateExpression: 'SET expires_ms = :zero',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: lease.owner }, ':fence': { N: String(lease.token) }, ':zero': { N: '0' } },
        }),
      );
    } catch (e) {
      if (awsErrorName(e) !== 'ConditionalCheckFailedException') throw e;
    }
  }

  async checkFence(name: string, token: number): Promise<boolean> {
    const out = await this.ddb.send(new GetItemCommand({ TableName: this.table, Key: { resource_id: { S: name } }, ConsistentRead: true }));
    const item = out.Item;
    return Boolean(item) && Number(item?.fence?.N) === token && Number(item?.expires_ms?.N) > this.now();
  }
}
