#!/usr/bin/env bash
# Scenario "messages": direct messages between friends. BENCH_MSG_PAIRS pairs of friends,
# each with their direct conversation, all connected at once; every person sends
# BENCH_MSG_RATE messages/s to their partner for BENCH_MSG_DURATION s (luojia-loadgen
# dm). Measured: send → delivery latency at the partner (p50, p99), and lost and
# duplicated messages (every acknowledged message must reach the partner exactly once).
# Twice: on one instance (embedded SQLite, in-process fan-out), and on two instances
# sharing the SQLite file and one Redis, the two people of each pair on different
# instances (every message crosses Redis). Writes docs/bench/messages.json (rendered by
# scripts/bench/sections/messages.py).
#
# The servers run with APP_AUTH__BCRYPT_COST=4 and lifted register/login rate limits so
# that thousands of users register quickly (not production settings).
#
# Knobs: BENCH_MSG_PAIRS=1000 BENCH_MSG_RATE=0.5 BENCH_MSG_DURATION=20 BENCH_MSG_DRAIN=5
#        REDIS_URL=redis://127.0.0.1:6379 (keys under a random prefix, deleted after)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PAIRS="${BENCH_MSG_PAIRS:-1000}"
RATE="${BENCH_MSG_RATE:-0.5}"
DURATION="${BENCH_MSG_DURATION:-20}"
DRAIN="${BENCH_MSG_DRAIN:-5}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
BCRYPT_COST=4

bench_require_tools
LUOJIA="$(bench_server_bin)"
LOADGEN="$(bench_release_bin LOADGEN_BIN luojia-loadgen luojia-loadgen)"
need=$((PAIRS * 2 + 256))
ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= need)) || bench_die "open file limit $(ulimit -n) is below $need"

bench_start_server APP_AUTH__BCRYPT_COST="$BCRYPT_COST"
SERVER_PIDS=("$BENCH_SERVER_PID")

# run_dm LABEL ARGS...: one loadgen dm run; its JSON line, with the label and the servers'
# CPU (cores over the whole run, set-up included), goes to runs.jsonl.
run_dm() {
    local label=$1 out srv0=0 srv1=0 pid t0 t1
    shift
    for pid in "${SERVER_PIDS[@]}"; do srv0=$((srv0 + $(bench_proc_ticks "$pid"))); done
    t0="$(date +%s.%N)"
    out="$("$LOADGEN" dm --concurrency 16 --pairs "$PAIRS" --rate "$RATE" --duration "$DURATION" \
        --drain "$DRAIN" "$@" 2> >(tee -a "$BENCH_TMP/loadgen.log" >&2))" || bench_die "loadgen $label failed"
    t1="$(date +%s.%N)"
    for pid in "${SERVER_PIDS[@]}"; do srv1=$((srv1 + $(bench_proc_ticks "$pid"))); done
    python3 - "$label" "$(printf '%s\n' "$out" | tail -n 1)" "$srv0" "$srv1" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY' | tee -a "$BENCH_TMP/runs.jsonl" >&2
import json, sys
label, out = sys.argv[1], json.loads(sys.argv[2])
srv0, srv1, t0, t1, hz = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
out["label"] = label
out["wall_s"] = round(t1 - t0, 2)
out["server_cpu_cores"] = round((srv1 - srv0) / hz / (t1 - t0), 3)
print(json.dumps(out))
PY
}

bench_wait_idle
bench_log "one instance: $PAIRS pairs, $RATE msg/s each, ${DURATION}s"
run_dm one --url "$BENCH_URL" --prefix m
bench_stop_pid "$BENCH_SERVER_PID"

[[ "$(redis_do PING 2>/dev/null)" == PONG ]] || bench_die "Redis at $REDIS_URL does not answer"
REDIS_PREFIX="luojia-bench-$(python3 -c 'import secrets; print(secrets.token_hex(6))'):"
SHARED=(APP_AUTH__BCRYPT_COST="$BCRYPT_COST"
    APP_DATABASE__URL="sqlite://$BENCH_TMP/dm-a/luojia.db?mode=rwc"
    APP_REDIS__URL="$REDIS_URL" APP_REDIS__KEY_PREFIX="$REDIS_PREFIX"
    APP_AUTH__JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
bench_start_instance dm-a "${SHARED[@]}"
URL_A="$BENCH_INSTANCE_URL" PID_A="$BENCH_INSTANCE_PID"
bench_start_instance dm-b "${SHARED[@]}"
URL_B="$BENCH_INSTANCE_URL" PID_B="$BENCH_INSTANCE_PID"
SERVER_PIDS=("$PID_A" "$PID_B")
sleep 2
bench_wait_idle
bench_log "two instances through Redis: $PAIRS pairs, each pair split over A and B"
run_dm two --url "$URL_A" --peer-url "$URL_B" --prefix n
bench_stop_pid "$PID_B"
bench_stop_pid "$PID_A"
bench_log "deleted $(redis_do purge "$REDIS_PREFIX") Redis keys under $REDIS_PREFIX"

python3 - >"$BENCH_TMP/meta.json" <<EOF
import json
print(json.dumps({
    "pairs": $PAIRS, "rate_per_person": $RATE, "duration_s": $DURATION, "drain_s": $DRAIN,
    "bcrypt_cost": $BCRYPT_COST, "database": "SQLite (embedded)",
    "redis_version": """$(redis_do INFO server | sed -n 's/^redis_version:\([^[:space:]]*\).*/\1/p')""",
    "server_binary": "$(basename "$(dirname "$LUOJIA")")",
}, indent=2))
EOF
bench_summarize messages
