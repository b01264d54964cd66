// A number that moves whenever the controller registry does, so that a PostgreSQL report can
// tell in its read of the row whether the registry it holds in memory is still the registry,
// instead of aggregating the registry in every read (sql/registry-cache.ts). A trigger moves it,
// so no write of the controllers table, present or future, can forget to. SQLite reads the
// registry in-process inside its write transaction and keeps no copy: it has no use for it.
import type { Migration } from './types.ts';

export const registryVersion: Migration = {
  version: 5,
  name: 'registry-version',
  statements: {
    postgres: [
      'CREATE TABLE registry_version (id smallint PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)',
      'INSERT INTO registry_version (id, version) VALUES (1, 1)',
      `CREATE FUNCTION goman_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE registry_version SET version = version + 1 WHERE id = 1;
         RETURN NULL;
       END
       $$`,
      `CREATE TRIGGER controllers_registry_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON controllers
       FOR EACH STATEMENT EXECUTE FUNCTION goman_registry_changed()`,
    ],
    sqlite: [],
  },
};
