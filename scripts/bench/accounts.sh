#!/usr/bin/env bash
# Scenario "accounts": GET /api/v1/me with a valid token against the empty route
# (GET /healthz) of the same server in the same run, and logins per second.
# Writes docs/bench/accounts.json (rendered by scripts/bench/report.py).
#
# Knobs (environment):
#   BENCH_DURATION=10       seconds per measured wrk run
#   BENCH_ROUNDS=3          alternating rounds (empty route, then /me) per route
#   BENCH_WARMUP=5          seconds of warm-up per route before the rounds
#   BENCH_THREADS=2         wrk threads
#   BENCH_CONNECTIONS=32    wrk connections for the two GET routes
#   BENCH_LOGIN_DURATION=10 seconds of login load
#   BENCH_LOGIN_CONNECTIONS=4
#   APP_AUTH__BCRYPT_COST   bcrypt cost the server uses (default 12, as in production)
#   BENCH_IDLE_MAX=15, BENCH_IDLE_WAIT=300  wait up to that long for the machine to be at
#                           most that % busy before measuring (see scripts/lib.sh)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DURATION="${BENCH_DURATION:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
WARMUP="${BENCH_WARMUP:-5}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
LOGIN_DURATION="${BENCH_LOGIN_DURATION:-10}"
LOGIN_CONNS="${BENCH_LOGIN_CONNECTIONS:-4}"
BCRYPT_COST="${APP_AUTH__BCRYPT_COST:-12}"

USERNAME="bench1"
PASSWORD="benchpassword1"
REGISTER_BODY="{\"username\":\"$USERNAME\",\"email\":\"$USERNAME@example.com\",\"password\":\"$PASSWORD\"}"
LOGIN_BODY="{\"login\":\"$USERNAME\",\"password\":\"$PASSWORD\"}"

bench_require_tools
bench_start_server APP_AUTH__BCRYPT_COST="$BCRYPT_COST"

# --- sanity: both routes answer as expected ----------------------------------------------
body="$(curl -fsS "$BENCH_URL/healthz")" || bench_die "GET /healthz failed"
[[ "$body" == *'"ok"'* ]] || bench_die "GET /healthz answered $body"

code="$(curl -sS -o "$BENCH_TMP/register.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' -d "$REGISTER_BODY" "$BENCH_URL/api/v1/auth/register")"
[[ "$code" == 201 ]] || bench_die "register answered $code: $(cat "$BENCH_TMP/register.json")"

# A fresh access token (they live 15 minutes): log in right before each /me run.
fresh_token() {
    local out code
    out="$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' \
        -d "$LOGIN_BODY" "$BENCH_URL/api/v1/auth/login")"
    code="${out##*$'\n'}"
    [[ "$code" == 200 ]] || bench_die "login answered $code: ${out%$'\n'*}"
    bench_json_field "${out%$'\n'*}" 'd["tokens"]["access_token"]'
}

TOKEN="$(fresh_token)"
code="$(curl -sS -o "$BENCH_TMP/me.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" "$BENCH_URL/api/v1/me")"
[[ "$code" == 200 ]] || bench_die "GET /api/v1/me answered $code: $(cat "$BENCH_TMP/me.json")"
grep -q "\"$USERNAME\"" "$BENCH_TMP/me.json" || bench_die "GET /api/v1/me: unexpected body $(cat "$BENCH_TMP/me.json")"
code="$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x$TOKEN" "$BENCH_URL/api/v1/me")"
[[ "$code" == 401 ]] || bench_die "GET /api/v1/me with a bad token answered $code, not 401"

# --- empty route vs /me: warm up, then alternate ---------------------------------------------
GET_ARGS=(-t"$THREADS" -c"$CONNS" --latency --timeout 5s)
bench_wait_idle
CPU_BUSY_BEFORE="$BENCH_CPU_BUSY_BEFORE"
bench_log "warm-up: ${WARMUP}s per route"
bench_wrk warmup-healthz 0 "${GET_ARGS[@]}" -d"${WARMUP}s" "$BENCH_URL/healthz"
bench_wrk warmup-me 0 "${GET_ARGS[@]}" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$BENCH_URL/api/v1/me"

for round in $(seq 1 "$ROUNDS"); do
    bench_log "round $round/$ROUNDS: ${DURATION}s per route"
    bench_wrk healthz "$round" "${GET_ARGS[@]}" -d"${DURATION}s" "$BENCH_URL/healthz"
    TOKEN="$(fresh_token)"
    bench_wrk me "$round" "${GET_ARGS[@]}" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$BENCH_URL/api/v1/me"
done

# --- logins per second ---------------------------------------------------------------------
bench_wait_idle
bench_log "logins: ${LOGIN_DURATION}s, $LOGIN_CONNS connections, bcrypt cost $BCRYPT_COST"
BENCH_METHOD=POST BENCH_BODY="$LOGIN_BODY" BENCH_COUNT_STATUS=1 \
    bench_wrk login 1 -t"$THREADS" -c"$LOGIN_CONNS" -d"${LOGIN_DURATION}s" --latency --timeout 30s \
    "$BENCH_URL/api/v1/auth/login"

cat >"$BENCH_TMP/meta.json" <<EOF
{
  "bcrypt_cost": $BCRYPT_COST,
  "duration_s": $DURATION,
  "rounds": $ROUNDS,
  "warmup_s": $WARMUP,
  "threads": $THREADS,
  "connections": $CONNS,
  "login_duration_s": $LOGIN_DURATION,
  "login_connections": $LOGIN_CONNS,
  "cpu_busy_before_pct": $CPU_BUSY_BEFORE,
  "server_workers": "default (one per core)",
  "wrk_version": "$(wrk -v 2>&1 | head -n 1 | sed 's/"/\\"/g')"
}
EOF
bench_summarize accounts
