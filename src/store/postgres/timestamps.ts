// How timestamptz values come out of pg. By default pg parses each into a Date, and goman turns
// every Date straight back into an ISO string (rows.ts): two allocations and a parse per value on
// every read. In a UTC session PostgreSQL's text form is toISOString()'s with its characters
// moved, so that is done here; any other form (another session time zone, a year outside
// 0000–9999) goes through pg's own parser.
import pg from 'pg';

type Parser = (value: string) => unknown;
type GetTypeParser = (oid: number, format?: 'text' | 'binary') => Parser;

const TIMESTAMPTZ: number = pg.types.builtins.TIMESTAMPTZ;
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;
// pg-types declares its parsers as returning `any`; what they return is checked below.
const pgParser = pg.types.getTypeParser as GetTypeParser;
const parseWithDate = pgParser(TIMESTAMPTZ, 'text');

/** The value as toISOString() writes it (milliseconds, truncated as a Date would). */
export function isoFromTimestamptz(text: string): string {
  const utc = UTC_TEXT.exec(text);
  if (utc !== null) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  const parsed = parseWithDate(text);
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : text;
}

/** pg's `types` option: timestamptz as ISO strings, every other type as pg parses it. */
export const postgresTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ && format !== 'binary' ? isoFromTimestamptz : pgParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};
