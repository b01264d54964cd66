// The initial schema (docs/store.md explains each table). PostgreSQL uses jsonb, timestamptz
// and identity columns; SQLite uses TEXT holding JSON / ISO-8601 times and AUTOINCREMENT, so
// outbox seqs are never reused after a delete.
import type { Migration } from './types.ts';

const indexes = [
  'CREATE UNIQUE INDEX clusters_name_key ON clusters (name)',
  'CREATE INDEX clusters_created_idx ON clusters (created_at, id)',
  'CREATE INDEX clusters_phase_idx ON clusters (phase, created_at, id)',
  'CREATE INDEX clusters_owner_idx ON clusters (created_by, created_at, id)',
  'CREATE INDEX clusters_next_reconcile_idx ON clusters (next_reconcile_at)',
  'CREATE INDEX history_cluster_idx ON history (cluster_id, seq)',
  'CREATE INDEX outbox_unsent_idx ON outbox (seq) WHERE sent_at IS NULL',
  'CREATE INDEX provider_state_cluster_idx ON provider_state (cluster_id)',
];

export const initial: Migration = {
  version: 1,
  name: 'initial',
  statements: {
    postgres: [
      `CREATE TABLE clusters (
        id text PRIMARY KEY,
        name text NOT NULL,
        labels jsonb NOT NULL,
        spec jsonb NOT NULL,
        status jsonb NOT NULL,
        phase text NOT NULL,
        provider text NOT NULL,
        generation integer NOT NULL,
        observed_generation integer NOT NULL,
        resource_version bigint NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        deletion_timestamp timestamptz,
        finalizers jsonb NOT NULL,
        next_reconcile_at timestamptz NOT NULL
      )`,
      `CREATE TABLE controller_statuses (
        cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
        controller text NOT NULL,
        status jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (cluster_id, controller)
      )`,
      `CREATE TABLE controllers (
        name text PRIMARY KEY,
        providers jsonb NOT NULL,
        required boolean NOT NULL,
        registered_at timestamptz NOT NULL,
        last_heartbeat timestamptz NOT NULL
      )`,
      `CREATE TABLE history (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
        kind text NOT NULL,
        message text NOT NULL,
        generation integer NOT NULL,
        at timestamptz NOT NULL,
        data jsonb
      )`,
      `CREATE TABLE outbox (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id text NOT NULL,
        type text NOT NULL,
        cluster_id text NOT NULL,
        name text NOT NULL,
        provider text NOT NULL,
        generation integer NOT NULL,
        at timestamptz NOT NULL,
        sent_at timestamptz
      )`,
      `CREATE TABLE leases (
        name text PRIMARY KEY,
        owner text NOT NULL,
        token bigint NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
      `CREATE TABLE provider_state (
        provider text NOT NULL,
        cluster_id text NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (provider, cluster_id)
      )`,
      `CREATE TABLE tokens (
        id text PRIMARY KEY,
        subject text NOT NULL,
        role text NOT NULL,
        hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked boolean NOT NULL DEFAULT false
      )`,
      ...indexes,
      'CREATE INDEX clusters_labels_idx ON clusters USING gin (labels jsonb_path_ops)',
    ],
    sqlite: [
      `CREATE TABLE clusters (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        labels TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        phase TEXT NOT NULL,
        provider TEXT NOT NULL,
        generation INTEGER NOT NULL,
        observed_generation INTEGER NOT NULL,
        resource_version INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deletion_timestamp TEXT,
        finalizers TEXT NOT NULL,
        next_reconcile_at TEXT NOT NULL
      )`,
      `CREATE TABLE controller_statuses (
        cluster_id TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
        controller TEXT NOT NULL,
        status TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (cluster_id, controller)
      )`,
      `CREATE TABLE controllers (
        name TEXT PRIMARY KEY NOT NULL,
        providers TEXT NOT NULL,
        required INTEGER NOT NULL,
        registered_at TEXT NOT NULL,
        last_heartbeat TEXT NOT NULL
      )`,
      `CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        cluster_id TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        generation INTEGER NOT NULL,
        at TEXT NOT NULL,
        data TEXT
      )`,
      `CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        name TEXT NOT NULL,
        provider TEXT NOT NULL,
        generation INTEGER NOT NULL,
        at TEXT NOT NULL,
        sent_at TEXT
      )`,
      `CREATE TABLE leases (
        name TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        token INTEGER NOT NULL,
        expires_at TEXT NOT NULL
      )`,
      `CREATE TABLE provider_state (
        provider TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (provider, cluster_id)
      )`,
      `CREATE TABLE tokens (
        id TEXT PRIMARY KEY NOT NULL,
        subject TEXT NOT NULL,
        role TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked INTEGER NOT NULL DEFAULT 0
      )`,
      ...indexes,
    ],
  },
};
