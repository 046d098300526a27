#!/usr/bin/env bash
# The API contract against the real server (part of `make test`):
# - openapi.yaml is a valid OpenAPI 3.1 document (openapi-spec-validator);
# - schemathesis runs every check over openapi.yaml against the debug server on SQLite
#   and on PostgreSQL, without a token and with one, each run bounded in time: any 5xx,
#   undocumented status, schema violation or wrong content type fails. Exceptions that no
#   schema can state are listed, with reasons, in scripts/schemathesis.toml.
# Both tools are pinned and installed from PyPI into a venv outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

VENV="${LUOJIA_VENV:-/var/tmp/luojia-venv}"
PINS=(schemathesis==4.32.5 openapi-spec-validator==0.9.0)
ST_SECONDS="${LUOJIA_SCHEMATHESIS_SECONDS:-30}"
ROOT="$(pwd)"
BIN="${LUOJIA_BIN:-${CARGO_TARGET_DIR:-/var/tmp/luojia-target}/debug/luojia}"

pip_venv "$VENV" "${PINS[@]}"

log "OpenAPI 3.1 validation of openapi.yaml"
"$VENV/bin/openapi-spec-validator" openapi.yaml

[ -x "$BIN" ] || die "no server binary at $BIN (build it first: cargo build -p luojia)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

SERVER_PID=""
WORK=""
PG_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  [ -n "$WORK" ] && rm -rf "$WORK"
  if [ -n "$PG_DB" ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  SERVER_PID="" WORK="" PG_DB=""
}
trap cleanup EXIT

# run_against NAME [APP_DATABASE__URL]
run_against() {
  local name=$1 db_url=${2:-} port token status=0
  WORK="$(mktemp -d /var/tmp/luojia-contract.XXXXXX)"
  port="$(free_port)"
  env APP_SERVER__HOST=127.0.0.1 APP_SERVER__PORT="$port" APP_DATA_DIR="$WORK" \
    ${db_url:+APP_DATABASE__URL="$db_url"} \
    APP_LOG__LEVEL=warn APP_AUTH__BCRYPT_COST=4 \
    APP_RATE_LIMIT__LOGIN_PER_IP=100000000 APP_RATE_LIMIT__LOGIN_PER_ACCOUNT=100000000 \
    APP_RATE_LIMIT__LOGIN_FAILURES_PER_ACCOUNT=100000000 \
    APP_RATE_LIMIT__REGISTER_PER_IP=100000000 APP_RATE_LIMIT__REGISTER_PER_NAME=100000000 \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$port" 60 || { tail -n 30 "$WORK/server.log" >&2; die "$name server did not start"; }
  token="$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/register" \
    -H 'content-type: application/json' \
    -d '{"username":"contract","email":"contract@example.com","password":"correct horse battery"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')"
  local common=(--url "http://127.0.0.1:$port" --checks all --workers 1 --max-time "$ST_SECONDS"
    --seed 1 --no-shrink)
  # Run from the scratch dir: schemathesis keeps a cache (.schemathesis/) where it runs.
  st() { (cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis.toml" \
    run "$ROOT/openapi.yaml" "${common[@]}" "$@"); }
  log "schemathesis on $name without a token (${ST_SECONDS} s)"
  st || status=1
  # With a token: logging out would end the session under test, so logout runs above only.
  log "schemathesis on $name with a token (${ST_SECONDS} s)"
  st -H "Authorization: Bearer $token" --exclude-path /api/v1/auth/logout || status=1
  if grep -E '\b(ERROR|panicked)\b' "$WORK/server.log" >&2; then status=1; fi
  cleanup
  return "$status"
}

failed=0
run_against SQLite || failed=1
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  PG_DB="luojia_t_contract_$$"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$PG_DB\"" >/dev/null
  base="${TEST_POSTGRES_URL%%\?*}"
  run_against PostgreSQL "${base%/*}/$PG_DB" || failed=1
fi
[ "$failed" = 0 ] || die "contract checks failed (see above)"
log "contract checks passed"
