// Errors with stable codes (DESIGN §4). Stores and domain code throw these; the API maps
// them to problem+json and the CLI to exit codes, so both speak the same vocabulary.
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'NAME_TAKEN',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export class GomanError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, message: string, errors?: FieldError[]) {
    super(message);
    this.name = 'GomanError';
    this.code = code;
    this.errors = errors;
  }
}

/** Well-formed and valid, but not applicable to the resource as it is (the API answers 422). */
export class UnprocessableError extends GomanError {
  constructor(message: string, errors?: FieldError[]) {
    super('VALIDATION_FAILED', message, errors);
    this.name = 'UnprocessableError';
  }
}

export const notFound = (what: string): GomanError => new GomanError('NOT_FOUND', `${what} not found`);
// Cluster names are global to a control plane (they name cloud resources: security groups, SSM
// parameters, instance tags), so a taken name is refused whoever holds it; the refusal names
// no owner, id or state, and reads the same whether the holder is the caller or someone else.
export const nameTaken = (name: string): GomanError =>
  new GomanError('NAME_TAKEN', `a cluster named "${name}" already exists (names are unique across this control plane); choose another name`);
export const preconditionFailed = (message: string): GomanError => new GomanError('PRECONDITION_FAILED', message);
export const conflict = (message: string): GomanError => new GomanError('CONFLICT', message);
// The cluster exists but has no kubeconfig in its present phase: a conflict with its state, not a
// 404, because a 404 always means the cluster itself is gone (and clients stop waiting on one).
export const noKubeconfigYet = (name: string, phase: string): GomanError =>
  conflict(`cluster ${name} has no kubeconfig yet (phase ${phase}); wait until it is Ready`);
// A report or finalizer release from a controller the server does not know (never registered,
// heartbeat expired, or deregistered by an admin). The field error lets the controller tell it
// from other conflicts and register again at once instead of failing until its next heartbeat.
export const notRegistered = (name: string): GomanError =>
  new GomanError('CONFLICT', `controller "${name}" is not registered (or its heartbeat expired): PUT /api/v1/controllers/${name} first`, [
    { path: 'controller', message: 'must be a registered controller' },
  ]);
export const isNotRegistered = (e: unknown): boolean =>
  isGomanError(e, 'CONFLICT') && (e.errors ?? []).some((f) => f.path === 'controller');
export const validationFailed = (message: string, errors?: FieldError[]): GomanError =>
  new GomanError('VALIDATION_FAILED', message, errors);

export function isGomanError(e: unknown, code?: ErrorCode): e is GomanError {
  return e instanceof GomanError && (code === undefined || e.code === code);
}
