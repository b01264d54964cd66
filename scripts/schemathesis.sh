#!/usr/bin/env bash
# Fuzz a live goman API from its own OpenAPI document with schemathesis 4.x.
#   scripts/schemathesis.sh URL ADMIN_TOKEN      e.g. http://127.0.0.1:8080 gmn_...
# Environment: GOMAN_SCHEMATHESIS_EXAMPLES (examples per operation, default 30),
# GOMAN_SCHEMATHESIS_SEED (default: a fresh random seed, printed so a failure can be replayed),
# GOMAN_SCHEMATHESIS_MAX_AUTH_SHARE (largest allowed share of 401/403 answers, default 0.05),
# GOMAN_SCHEMATHESIS_MAX_SECONDS (time budget of one schemathesis run, default 1500),
# GOMAN_SCHEMATHESIS_REVOKE_SECONDS (budget of the revokeToken-only run, default 30).
# Exits non-zero on any failed check, and when too many answers were 401/403: a run whose
# credential stopped working has tested nothing, however clean its report looks.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 URL ADMIN_TOKEN" >&2
  exit 2
fi
url=${1%/}
token=$2
root=$(cd "$(dirname "$0")/.." && pwd)
examples=${GOMAN_SCHEMATHESIS_EXAMPLES:-30}
max_seconds=${GOMAN_SCHEMATHESIS_MAX_SECONDS:-1500}
revoke_seconds=${GOMAN_SCHEMATHESIS_REVOKE_SECONDS:-30}
seed=${GOMAN_SCHEMATHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
report=$(mktemp -d)
trap 'rm -rf "$report"' EXIT
echo "schemathesis: seed $seed, $examples examples per operation, $url (replay with GOMAN_SCHEMATHESIS_SEED=$seed)"

# Run from a scratch directory, in case schemathesis writes anything to the working directory.
cd "$report"
fuzz() { # NAME TOKEN SECONDS SCHEMATHESIS-ARGS...
  local name=$1 bearer=$2 seconds=$3
  shift 3
  # Every check except positive_data_acceptance: some schema-valid inputs are refused on purpose
  # (duplicate pool names, cursors this server never issued) and JSON Schema cannot say so.
  # And except use_after_free: deletion is asynchronous by design (as in Kubernetes), so a deleted
  # cluster stays readable, with its deletionTimestamp, until its controllers release their
  # finalizers; and DELETE ?dryRun=true deletes nothing. test/api covers both behaviours.
  # The watch stream never ends by design, so it is left to test/api/watch.test.ts.
  # --max-time ends the run gracefully (with its report); timeout is the backstop.
  # No example database: the scratch directory it would live in is deleted after each run, so it
  # could never replay anything, and with one Hypothesis keeps a Pareto front of its targets
  # (schemathesis targets each operation's success rate) whose shrinking took about 3/4 of the
  # generator's CPU time in a profile of a 300-example run.
  # One worker: generation is CPU-bound under the GIL, so a second thread adds little, and
  # Python before 3.11.8/3.12.2 shares the AST constructor's state between threads (CPython
  # gh-106905), which once failed a run with "AST constructor recursion depth mismatch".
  timeout $((seconds + 300)) "$root/.venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" run "$url/openapi.json" \
    --max-time "$seconds" \
    --url "$url" \
    --header "Authorization: Bearer $bearer" \
    --checks all \
    --exclude-checks positive_data_acceptance,use_after_free \
    --exclude-path /api/v1/watch \
    --max-examples "$examples" \
    --workers 1 \
    --request-timeout 10 \
    --seed "$seed" \
    --generation-database none \
    --suppress-health-check too_slow,filter_too_much \
    --report har --report-har-path "$report/$name.har" \
    --warnings off \
    "$@"
}

# The run must not revoke the token it runs with: revokeToken is fuzzed on its own, with a
# disposable admin token (and the server refuses to revoke the last admin token anyway).
status=0
fuzz main "$token" "$max_seconds" --exclude-operation-id revokeToken || status=$?
spare=$(curl -fsS -X POST "$url/api/v1/tokens" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"subject":"schemathesis-revoke","role":"admin"}' | "$root/node_modules/.bin/node" -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).token)')
# One operation with one path parameter: its examples are done in seconds, but generation goes
# on looking for new ones until the budget ends, so it gets a small one of its own.
fuzz revoke "$spare" "$(( max_seconds < revoke_seconds ? max_seconds : revoke_seconds ))" --include-operation-id revokeToken || status=$?

"$root/node_modules/.bin/node" "$root/scripts/fuzz-report.ts" --max-auth-share "${GOMAN_SCHEMATHESIS_MAX_AUTH_SHARE:-0.05}" "$report/main.har" "$report/revoke.har" || status=$?
# And the credential still works at the end.
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$url/api/v1/tokens" || { echo "schemathesis: the run's admin token no longer works" >&2; status=1; }
exit "$status"
