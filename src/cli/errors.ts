// Exit codes and one-line error messages (DESIGN §10): every failure says what to do in one
// line on stderr; the stack trace only with --debug.
import { ServerUnreachableError } from '../client/errors.ts';
import { GomanError } from '../domain/errors.ts';
import { FileError } from '../util/files.ts';

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, conflict: 4 } as const;

/** Bad input from the command line (unknown flag, invalid name or value, unreadable spec file). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where the failing command was talking to, for messages that must name it. */
export interface Target {
  server?: string;
  context?: string;
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError || e instanceof FileError) return EXIT.usage;
  if (e instanceof GomanError) {
    switch (e.code) {
      case 'VALIDATION_FAILED':
      case 'PAYLOAD_TOO_LARGE':
        return EXIT.usage;
      case 'NOT_FOUND':
        return EXIT.notFound;
      case 'NAME_TAKEN':
      case 'CONFLICT':
      case 'PRECONDITION_FAILED':
        return EXIT.conflict;
      default:
        return EXIT.failure;
    }
  }
  return EXIT.failure;
}

export function describeError(e: unknown, target: Target = {}): string {
  const where = target.context ? ` (context ${target.context})` : '';
  if (e instanceof UsageError) return e.message;
  if (e instanceof GomanError) {
    const server = target.server ?? 'the server';
    switch (e.code) {
      case 'UNAVAILABLE':
        if (target.server && e instanceof ServerUnreachableError) {
          return `cannot reach goman server at ${target.server} — is \`goman serve\` running?${where}`;
        }
        return e.message;
      case 'UNAUTHENTICATED':
        return `token rejected by ${server} (unknown, revoked or expired); ask an admin of that server for a new token, then \`goman context add NAME --server URL --token TOKEN\`${where}`;
      case 'FORBIDDEN':
        return `${e.message} — your token's role does not allow this; ask an admin for a token with that role${where}`;
      case 'CONFLICT':
        // The server says why (being deleted, name taken): a stale read is PRECONDITION_FAILED.
        return e.message;
      case 'PRECONDITION_FAILED':
        return `${e.message}: it changed since you read it; run again`;
      case 'VALIDATION_FAILED':
        return e.errors?.length ? `${e.message}: ${e.errors.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; ')}` : e.message;
      case 'RATE_LIMITED':
        return `${e.message}; wait a moment and run again`;
      default:
        return e.message;
    }
  }
  if (e instanceof Error) return awsAdvice(e) ?? e.message.split('\n')[0] ?? e.message;
  return String(e);
}

const AWS_CREDENTIALS = 'AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';

/** AWS SDK failures a user fixes in their own set-up, told by the SDK's error name. */
function awsAdvice(e: Error): string | undefined {
  switch (e.name) {
    case 'CredentialsProviderError':
      return `no AWS credentials found; set ${AWS_CREDENTIALS} (see docs/aws.md)`;
    case 'ExpiredToken':
    case 'ExpiredTokenException':
      return 'your AWS credentials have expired; refresh them (e.g. `aws sso login`) and run again';
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
    case 'SignatureDoesNotMatch':
      return `AWS rejected your credentials; check ${AWS_CREDENTIALS}`;
    case 'AccessDenied':
    case 'AccessDeniedException':
      return `AWS denied access (${e.message.split('\n')[0]}); use credentials allowed to do this (docs/aws.md, "Credentials")`;
    default:
      return undefined;
  }
}
