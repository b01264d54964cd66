// Exit codes and one-line error messages (DESIGN §10): every failure says what to do in one
// line on stderr; the stack trace only with --debug.
import { ServerUnreachableError } from '../client/errors.ts';
import { GomanError } from '../domain/errors.ts';

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
  if (e instanceof UsageError) return EXIT.usage;
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
        return `token rejected by ${server}; create a new one with \`goman token create\` or \`goman context add\`${where}`;
      case 'FORBIDDEN':
        return `${e.message} — your token's role does not allow this${where}`;
      case 'CONFLICT':
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
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}
