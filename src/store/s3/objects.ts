// JSON objects in the state bucket with S3 conditional writes (DESIGN §8): `If-None-Match: *`
// creates only when absent, `If-Match: <etag>` updates only what the writer read.
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { awsErrorName, httpStatusOf } from '../../aws/clients.ts';
import { GomanError } from '../../domain/index.ts';

export interface StoredJson {
  body: unknown;
  etag: string;
}

/** Thrown when a conditional write lost the race; callers map it to NAME_TAKEN or PRECONDITION_FAILED. */
export class WriteConflict extends Error {
  constructor(key: string) {
    super(`conditional write on ${key} was refused`);
    this.name = 'WriteConflict';
  }
}

export class JsonObjects {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Prefix of every key (a namespace's `state/NAME/`, or ''): callers name keys relative to it. */
  readonly root: string;

  constructor(s3: S3Client, bucket: string, root = '') {
    this.s3 = s3;
    this.bucket = bucket;
    this.root = root;
  }

  async get(key: string): Promise<StoredJson | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.root + key }));
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = { $unparsable: text.slice(0, 200) };
      }
      return { body, etag: out.ETag ?? '' };
    } catch (e) {
      if (awsErrorName(e) === 'NoSuchKey') return null;
      throw this.translate(e);
    }
  }

  /** Returns the new ETag. `ifMatch: null` means "create only" (If-None-Match: *). */
  async put(key: string, value: unknown, ifMatch?: string | null): Promise<string> {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.root + key,
          Body: `${JSON.stringify(value, null, 2)}\n`,
          ContentType: 'application/json',
          ...(ifMatch === null ? { IfNoneMatch: '*' } : ifMatch !== undefined ? { IfMatch: ifMatch } : {}),
        }),
      );
      return out.ETag ?? '';
    } catch (e) {
      // 409 ConditionalRequestConflict: a concurrent conditional write to the same key.
      if (httpStatusOf(e) === 412 || httpStatusOf(e) === 409) throw new WriteConflict(key);
      throw this.translate(e);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.root + key }));
    } catch (e) {
      throw this.translate(e);
    }
  }

  async listKeys(prefix: string, startAfter?: string, max = 1000): Promise<{ keys: string[]; truncated: boolean }> {
    try {
      const out = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.root + prefix, MaxKeys: max, ...(startAfter ? { StartAfter: this.root + startAfter } : {}) }),
      );
      const keys = (out.Contents ?? []).map((o) => (o.Key ?? '').slice(this.root.length)).filter(Boolean);
      return { keys, truncated: Boolean(out.IsTruncated) };
    } catch (e) {
      throw this.translate(e);
    }
  }

  /** One line naming the fix for the failures a user can fix. */
  translate(e: unknown): unknown {
    const name = awsErrorName(e);
    if (name === 'NoSuchBucket') return new GomanError('UNAVAILABLE', `bucket ${this.bucket} not found — run \`goman init\``);
    if (name === 'AccessDenied' || httpStatusOf(e) === 403) {
      return new GomanError('FORBIDDEN', `access to bucket ${this.bucket} denied — check your AWS credentials and their s3 permissions`);
    }
    return e;
  }
}
