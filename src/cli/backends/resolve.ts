// From a context to the ClusterBackend that serves it. The S3 backend (serverless mode) is
// loaded only when a context of kind `s3` is used, so server users never load the AWS SDK.
import type { ClusterBackend } from '../../client/backend.ts';
import { ServerBackend } from '../../client/http-backend.ts';
import { GomanError } from '../../domain/errors.ts';
import type { Context } from '../config.ts';

export async function backendFor(ctx: Context): Promise<ClusterBackend> {
  if (ctx.kind === 'server') return new ServerBackend({ server: ctx.server, token: ctx.token });
  const s3 = await import('../../client/s3-backend.ts').catch((e: unknown) => {
    if ((e as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new GomanError('UNAVAILABLE', `context "${ctx.name}" is an S3 context, but this goman build has no S3 backend`);
  });
  return s3.createS3Backend({ bucket: ctx.bucket, region: ctx.region, namespace: ctx.namespace });
}
