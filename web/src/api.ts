// The console's one door to the server: same-origin fetch with the session cookie (never a
// token in script-reachable storage). Problems come back as ApiError with the field errors of
// the problem+json body; a failed connection as Unreachable, which the shell turns into a banner.
export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[];

  constructor(status: number, code: string, detail: string, errors: FieldError[] = []) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }

  /** The message for one field, if the server named it. */
  field(path: string): string | undefined {
    return this.errors.find((e) => e.path === path || e.path.startsWith(`${path}.`))?.message;
  }
}

export class Unreachable extends Error {}

type Listener = (up: boolean) => void;
const listeners = new Set<Listener>();
let up = true;

export function onReachability(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setReachable(value: boolean): void {
  if (value === up) return;
  up = value;
  for (const l of listeners) l(value);
}

/** Called with no arguments whenever the server says the session is gone (401). */
let onSignedOut: () => void = () => {};
export function whenSignedOut(f: () => void): void {
  onSignedOut = f;
}

async function problemFrom(res: Response): Promise<ApiError> {
  try {
    const p = (await res.json()) as { code?: string; detail?: string; errors?: FieldError[] };
    return new ApiError(res.status, p.code ?? 'UNKNOWN', p.detail ?? res.statusText, p.errors ?? []);
  } catch {
    return new ApiError(res.status, 'UNKNOWN', `the server answered ${res.status}`);
  }
}

export async function request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': contentType },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    setReachable(false);
    throw new Unreachable('the goman server is unreachable');
  }
  setReachable(true);
  if (res.ok) return res;
  throw await failure(res, path);
}

/** The problem a failed response carries; a 401 (other than a failed sign-in) also signs out. */
export async function failure(res: Response, path: string): Promise<ApiError> {
  const problem = await problemFrom(res);
  if (res.status === 401 && path !== '/api/v1/session') onSignedOut();
  return problem;
}

export async function api<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const res = await request(method, path, body, contentType);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
