// Ids for things listed in creation order. UUIDv7 puts the creation time in the high bits and
// `uuid` keeps them monotonic within a process, so two clusters created in the same millisecond
// still sort by id in the order they were made: list order never depends on luck.
import { validate, v7 } from 'uuid';

export function newId(): string {
  return v7();
}

/** Whether `text` could be an id (any UUID: older rows have v4 ids). */
export function isId(text: string): boolean {
  return validate(text);
}
