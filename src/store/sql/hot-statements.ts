// The statements the store runs on nearly every request or reconcile: a GET's read by id or name, a
// status report's read and every save, the relay's read and mark, the registry read, leases and
// provider state. Each is compiled once per shape rather than built through the query builder on
// every call, and PostgreSQL keeps each parsed and planned on every connection: the postgres
// adapter sends a known text under its name (pg's named statements), so later runs carry only
// the parameters. Planning the report's save cost PostgreSQL more than running it, and building
// it cost the API process more than pg did (docs/performance.md §5). A named statement must keep
// its result's shape across migrations, so these reads name their columns rather than `*`.
import type { CompiledQuery } from 'kysely';

/** More than the shapes the hot writes build; past it a statement is built and sent as any other. */
const MAX_STATEMENTS = 200;

/**
 * A tree of parameter values: leaves are what the statement binds, objects and arrays its shape.
 * No leaf is undefined: query builders leave such a value out, which would change the text.
 */
export type Values = { readonly [key: string]: Values } | readonly Values[] | string | number | boolean | null;

/**
 * Stands for the leaf at `index` while a shape is compiled. It is no text: a builder that wrote
 * one into SQL would be building a different statement per value.
 */
class Slot {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
  toString(): never {
    throw new Error('hot statement: a value was written into the SQL text');
  }
}

const isBranch = (v: Values): v is { readonly [key: string]: Values } | readonly Values[] => typeof v === 'object' && v !== null;

/** The leaves in depth-first order, as slotted() numbers them. */
function leaves(values: Values, into: unknown[] = []): unknown[] {
  if (!isBranch(values)) into.push(values);
  else for (const child of Array.isArray(values) ? values : Object.values(values)) leaves(child as Values, into);
  return into;
}

/** The same tree, each leaf a Slot. */
function slotted(values: Values, next = { index: 0 }): unknown {
  if (!isBranch(values)) return new Slot(next.index++);
  if (Array.isArray(values)) return values.map((v: Values) => slotted(v, next));
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, slotted(v, next)]));
}

interface Shape {
  query: CompiledQuery<unknown>;
  /** For each parameter of the text, the index of the leaf it binds. */
  order: readonly number[];
}

export class HotStatements {
  readonly #names = new Map<string, string>();
  readonly #shapes = new Map<string, Shape>();
  readonly #fixed = new Map<string, CompiledQuery<unknown>>();

  /** The name a hot statement's text is sent under; undefined for any other text. */
  nameOf(text: string): string | undefined {
    return this.#names.get(text);
  }

  /**
   * A statement whose text depends on `key` alone, binding the leaves of `values`. The first
   * call of a key builds it from placeholders and learns which leaf each parameter binds; later
   * calls bind `values` without building. `build` must take every bound value from its argument
   * and decide the statement's shape from `key` and the tree's branches, never from a leaf.
   */
  shaped<V extends Values, R>(key: string, values: V, build: (values: V) => CompiledQuery<R>): CompiledQuery<R> {
    let shape = this.#shapes.get(key);
    if (shape === undefined) {
      const query = build(slotted(values) as V);
      const order = query.parameters.map((p) => {
        if (!(p instanceof Slot)) throw new Error(`hot statement ${key}: a parameter did not come from its values`);
        return p.index;
      });
      shape = { query, order };
      if (this.#remember(query)) this.#shapes.set(key, shape);
    }
    const bound = leaves(values);
    return { ...(shape.query as CompiledQuery<R>), parameters: shape.order.map((i) => bound[i]) };
  }

  /**
   * A statement whose text depends on `key` alone, with `parameters` bound in the order its text
   * uses them; an array is one parameter (a PostgreSQL array), where shaped() would bind each
   * element. `build` compiles it once, with any values of the same kinds.
   */
  fixed<R>(key: string, parameters: readonly unknown[], build: () => CompiledQuery<R>): CompiledQuery<R> {
    let query = this.#fixed.get(key) as CompiledQuery<R> | undefined;
    if (query === undefined) {
      query = build();
      if (query.parameters.length !== parameters.length) throw new Error(`hot statement ${key}: ${query.parameters.length} parameters, ${parameters.length} given`);
      if (this.#remember(query)) this.#fixed.set(key, query);
    }
    return { ...query, parameters };
  }

  #remember(query: CompiledQuery<unknown>): boolean {
    if (this.#names.size >= MAX_STATEMENTS) return false;
    if (!this.#names.has(query.sql)) this.#names.set(query.sql, `goman_${this.#names.size + 1}`);
    return true;
  }
}
