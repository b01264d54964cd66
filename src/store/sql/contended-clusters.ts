// Clusters whose unlocked report (reports.ts) lost to another write lately, and until when their
// reports take the row lock at once: on a row that many write at the same time, most unlocked
// saves would lose and do their work twice. Bounded: past MAX entries, the oldest goes first.
const FOR_MS = 10_000;
const MAX = 10_000;

export class ContendedClusters {
  readonly #until = new Map<string, number>();

  has(clusterId: string): boolean {
    const until = this.#until.get(clusterId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#until.delete(clusterId);
    return false;
  }

  mark(clusterId: string): void {
    // Re-inserted, so that the map's order stays the order of the latest losses.
    this.#until.delete(clusterId);
    this.#until.set(clusterId, Date.now() + FOR_MS);
    if (this.#until.size > MAX) this.#until.delete(this.#until.keys().next().value!);
  }
}
