#!/usr/bin/env bash
# Fuzz the OpenAPI document of a live, embedded `goman serve` with schemathesis (CI step).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$(node_modules/.bin/node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export GOMAN_DATA_DIR="$work/data" XDG_CONFIG_HOME="$work/config" GOMAN_LOG_LEVEL=warn
./bin/goman serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.2
done
token=$(node_modules/.bin/node -e '
  const y = require("yaml"); const fs = require("fs");
  const c = y.parse(fs.readFileSync(process.argv[1], "utf8"));
  console.log(c.contexts.find((x) => x.name === "local").token);' "$XDG_CONFIG_HOME/goman/config.yaml")
bash scripts/schemathesis.sh "http://127.0.0.1:$port" "$token"
