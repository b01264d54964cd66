// zod's issues in goman's words: field errors for problem+json and stores, one line for a person.
import type { z } from 'zod';
import type { FieldError } from './errors.ts';

/** zod issues → field errors, paths joined with '.' (prefixed with where the value came from); '(root)' for the value itself. */
export function zodFieldErrors(error: z.ZodError, prefix: readonly string[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map(String)].join('.') || '(root)',
    message: issue.message,
  }));
}

/** `path: message; path: message`, for a one-line CLI or log message. */
export function fieldErrorsText(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}

/** The first problem as `path: message`, for a one-line message that names one field. */
export function firstProblem(error: z.ZodError): string {
  const [first] = zodFieldErrors(error);
  return first ? `${first.path}: ${first.message}` : 'invalid';
}
