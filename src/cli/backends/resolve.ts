// From a context to the ClusterBackend that serves it. The S3 backend (serverless mode) is
// loaded only when a context of kind `s3` is used, so server users never load the AWS SDK.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClusterBackend } from '../../client/backend.ts';
import { GomanError } from '../../domain/errors.ts';
import type { Context } from '../config.ts';
import { ServerBackend } from '../../client/http-backend.ts';

const S3_BACKEND = new URL('../../client/s3-backend.ts', import.meta.url);

interface S3BackendModule {
  createS3Backend(opts: { bucket: string; region: string }): ClusterBackend | Promise<ClusterBackend>;
}

export async function backendFor(ctx: Context): Promise<ClusterBackend> {
  if (ctx.kind === 'server') return new ServerBackend({ server: ctx.server, token: ctx.token });
  if (!existsSync(fileURLToPath(S3_BACKEND))) {
    throw new GomanError('UNAVAILABLE', `context "${ctx.name}" is an S3 context, but this goman build has no S3 backend`);
  }
  const mod = (await import(S3_BACKEND.href)) as S3BackendModule;
  return mod.createS3Backend({ bucket: ctx.bucket, region: ctx.region });
}
