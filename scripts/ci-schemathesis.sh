#!/usr/bin/env bash
# Fuzz the OpenAPI document of a live `goman serve` with schemathesis (CI step): once on the
# embedded SQLite store and once on PostgreSQL (a fresh database), every phase including the
# stateful one, each with a fresh random seed that is printed.
# Environment: GOMAN_SCHEMATHESIS_SEEDS (seeds per store, default 1), GOMAN_SCHEMATHESIS_EXAMPLES
# (per operation, default 30), GOMAN_SCHEMATHESIS_STORES (default "sqlite postgres"),
# GOMAN_SCHEMATHESIS_MAX_SECONDS (budget of one run, default 150 here),
# GOMAN_TEST_DATABASE_URL (a database on the server to create the fuzz database on, as the tests use).
set -euo pipefail
cd "$(dirname "$0")/.."
# CI's budget per schemathesis run (GOMAN_SCHEMATHESIS_MAX_SECONDS; the stand-alone script's own
# default is 1500 s): with 32 operations, data generation alone can run for many minutes on 2 cores,
# and the whole of .ci/run must stay well under 20 minutes. Longer fuzzing: set it higher.
export GOMAN_SCHEMATHESIS_MAX_SECONDS=${GOMAN_SCHEMATHESIS_MAX_SECONDS:-150}
node=node_modules/.bin/node
work=$(mktemp -d)
pg_admin=${GOMAN_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
pid=
db=
moto_pid=
stop_server() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi
}
sql() { "$node" -e 'const { Client } = require("pg"); const c = new Client(process.argv[1]); c.connect().then(() => c.query(process.argv[2])).finally(() => c.end());' "$pg_admin" "$1"; }
cleanup() {
  stop_server
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  if [ -n "$db" ]; then sql "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# The server reaches "AWS" through moto, as the tests do: an aws cluster's kubeconfig (and its
# snapshots) are read from SSM and S3, and without an AWS to ask the server could only answer
# 503, which the fuzzer rightly counts as a server error. The 503 itself is covered by tests.
moto_port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 150); do
  curl -fsS -o /dev/null "http://127.0.0.1:$moto_port/moto-api/" 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { cat "$work/moto.log"; exit 1; }
  sleep 0.2
done
aws_env=(AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=ap-south-1)

serve() { # STORE-NAME [ENV=VALUE...]: start goman serve on a fresh data dir and config; sets url, token
  local name=$1
  shift
  local port
  port=$(free_port)
  mkdir -p "$work/$name"
  env GOMAN_DATA_DIR="$work/$name/data" XDG_CONFIG_HOME="$work/$name/config" GOMAN_LOG_LEVEL=warn "${aws_env[@]}" "$@" \
    ./bin/goman serve --listen "127.0.0.1:$port" >"$work/$name/serve.log" 2>&1 &
  pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 150); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name/serve.log"; exit 1; }
    sleep 0.2
  done
  token=$("$node" -e '
    const y = require("yaml"); const fs = require("fs");
    const c = y.parse(fs.readFileSync(process.argv[1], "utf8"));
    console.log(c.contexts.find((x) => x.name === "local").token);' "$work/$name/config/goman/config.yaml")
}

status=0
for store in ${GOMAN_SCHEMATHESIS_STORES:-sqlite postgres}; do
  for _ in $(seq "${GOMAN_SCHEMATHESIS_SEEDS:-1}"); do
    case $store in
      sqlite) serve sqlite ;;
      postgres)
        db=goman_fuzz_$$_$RANDOM
        sql "CREATE DATABASE $db"
        serve postgres GOMAN_DATABASE_URL="${pg_admin%/*}/$db"
        ;;
      *) echo "unknown store $store" >&2; exit 2 ;;
    esac
    echo "== schemathesis on $store"
    bash scripts/schemathesis.sh "$url" "$token" || { status=1; tail -20 "$work/$store/serve.log"; }
    stop_server
    if [ "$store" = postgres ]; then sql "DROP DATABASE IF EXISTS $db WITH (FORCE)"; db=; fi
    rm -rf "${work:?}/$store"
  done
done
exit "$status"
