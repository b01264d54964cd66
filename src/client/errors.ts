// What the HTTP adapter throws, typed so the CLI tells the user what to do from the class,
// status and code, never from the message text.
import { GomanError, type ErrorCode, type FieldError } from '../domain/errors.ts';

/** A problem+json answer from the server: its HTTP status, stable code and request id. */
export class ApiError extends GomanError {
  readonly status: number;
  readonly requestId: string | undefined;

  constructor(status: number, code: ErrorCode, message: string, errors?: FieldError[], requestId?: string) {
    super(code, message, errors);
    this.name = 'ApiError';
    this.status = status;
    this.requestId = requestId;
  }
}

/** No HTTP answer from the goman server at all: refused, unresolvable, or past the timeout. */
export class ServerUnreachableError extends GomanError {
  readonly server: string;
  readonly timedOut: boolean;

  constructor(server: string, timedOut: boolean) {
    super('UNAVAILABLE', `goman server at ${server} ${timedOut ? 'timed out' : 'is unreachable'}`);
    this.name = 'ServerUnreachableError';
    this.server = server;
    this.timedOut = timedOut;
  }
}
