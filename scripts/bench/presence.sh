#!/usr/bin/env bash
# Scenario "presence": what friends' presence costs. A user with BENCH_PR_FRIENDS friends,
# BENCH_PR_ONLINE of them connected (one connection each), connects and then disconnects;
# luojia-loadgen (`presence` mode) counts the `friend_presence` frames and bytes the friend
# connections receive each way, and how long the last one took. Target: exactly one frame
# per online friend connection each way, nothing to the others. Runs on the embedded server
# (in-process presence) and, when Redis answers at BENCH_PR_REDIS_URL, on a server using it
# (presence sets in Redis, frames through its pub/sub). Writes docs/bench/presence.json
# (rendered by scripts/bench/sections/presence.py). About 15 s.
#
# Knobs (environment):
#   BENCH_PR_FRIENDS=200   friends of the measured user
#   BENCH_PR_ONLINE=50     of them connected
#   BENCH_PR_REDIS_URL=redis://127.0.0.1:6379   ("" to skip the Redis run)
#   LOADGEN_BIN, LUOJIA_BIN  use these binaries (else built with cargo, see scripts/lib.sh)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

FRIENDS="${BENCH_PR_FRIENDS:-200}"
ONLINE="${BENCH_PR_ONLINE:-50}"
REDIS_URL="${BENCH_PR_REDIS_URL-redis://127.0.0.1:6379}"
BCRYPT_COST=4

command -v python3 >/dev/null 2>&1 || bench_die "python3 is required"
LOADGEN="$(bench_release_bin LOADGEN_BIN luojia-loadgen luojia-loadgen)"
PR_TMP="$(mktemp -d "${TMPDIR:-/tmp}/luojia-bench-presence.XXXXXX")"
: >"$PR_TMP/runs.jsonl"

run_case() {
    local label=$1 out
    shift
    bench_start_server APP_AUTH__BCRYPT_COST="$BCRYPT_COST" APP_RATE_LIMIT__REGISTER_PER_NAME=100000000 "$@"
    out="$("$LOADGEN" presence --url "$BENCH_URL" --friends "$FRIENDS" --online "$ONLINE" --prefix "pr" \
        2> >(tee -a "$PR_TMP/loadgen.log" >&2))" || bench_die "loadgen presence ($label) failed"
    python3 -c 'import json,sys; d=json.loads(sys.argv[2]); d["label"]=sys.argv[1]; print(json.dumps(d))' \
        "$label" "$(printf '%s\n' "$out" | tail -n 1)" >>"$PR_TMP/runs.jsonl"
    bench_stop_pid "$BENCH_SERVER_PID"
    BENCH_SERVER_PID=""
    rm -rf "$BENCH_TMP"
    BENCH_TMP=""
}

run_case embedded
if [[ -n "$REDIS_URL" ]] && redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
    prefix="bench-presence-$(python3 -c 'import secrets; print(secrets.token_hex(4))'):"
    run_case redis APP_REDIS__URL="$REDIS_URL" APP_REDIS__KEY_PREFIX="$prefix"
    redis-cli -u "$REDIS_URL" --scan --pattern "${prefix}*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
else
    bench_log "no Redis at '$REDIS_URL': the Redis run is skipped"
fi

BENCH_TMP="$PR_TMP"
cat >"$PR_TMP/meta.json" <<EOF2
{"friends": $FRIENDS, "online": $ONLINE, "bcrypt_cost": $BCRYPT_COST,
 "server_bin": "$(bench_server_bin)", "loadgen_bin": "$LOADGEN"}
EOF2
bench_summarize presence
rm -rf "$PR_TMP"
