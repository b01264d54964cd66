// The controller registry as PostgreSQL reports last read it, with the registry version it was
// read at (migration 005). A report's read of its row carries the version; while that matches,
// the registry in memory is the registry, and the read needs no aggregate of the controllers
// table. Heartbeats and (de)registrations move the version, so each replica reads the registry
// again once after each of them.
import type { ControllerRegistration } from '../../domain/index.ts';

export class RegistryCache {
  #version = -1;
  #registrations: readonly ControllerRegistration[] = [];

  /** The registry at `version`, if that is the one held. */
  at(version: number): readonly ControllerRegistration[] | undefined {
    return version === this.#version ? this.#registrations : undefined;
  }

  /** Hold a registry read at `version`, unless it or a newer one is held already (reads race; every create reads it). */
  keep(version: number, registrations: readonly ControllerRegistration[]): void {
    if (version <= this.#version) return;
    this.#version = version;
    // Every report until the next change shares these objects.
    this.#registrations = Object.freeze(registrations.map((r) => Object.freeze(r)));
  }
}
