// A route's hooks of one kind as fastify's route options hold them (none, one, or a list), as a
// list: for onRoute hooks that add a route's own hooks beside the ones it already has.
export function hooksOf<T>(hooks: T | readonly T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? [...(hooks as readonly T[])] : [hooks as T];
}
