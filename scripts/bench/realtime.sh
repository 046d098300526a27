#!/usr/bin/env bash
# Scenario "realtime": WebSocket chat fan-out, seek latency and memory per idle connection,
# driven by the luojia-loadgen client (tools/loadgen). Writes docs/bench/realtime.json
# (rendered by scripts/bench/sections/realtime.py).
#
#   (a) fan-out: BENCH_RT_MEMBERS members in one room, BENCH_RT_SENDERS of them sending
#       BENCH_RT_RATE chat msg/s in total for BENCH_RT_DURATION s, against the server and
#       against a bare tokio broadcast loop inside loadgen (same client, same parameters,
#       same run): throughput ratio, p99 ratio, loss, duplicates.
#   (b) sync: BENCH_RT_SYNC_MEMBERS members; one sends BENCH_RT_SYNC_COMMANDS seeks; latency
#       from send to each member's playback_state.
#   (c) idle: up to BENCH_RT_IDLE_MAX authenticated idle connections (as many as the open
#       file limit allows); the server's VmRSS growth per connection.
#
# The server runs with APP_AUTH__BCRYPT_COST=4 and huge register/login rate limits so that
# thousands of bench users register quickly (not production settings; the accounts scenario
# measures bcrypt cost 12). The script raises `ulimit -n` to 65536 (or the hard limit) and
# the server inherits it. The Redis (multi-instance) path is not measured here.
#
# Knobs (environment):
#   BENCH_RT_MEMBERS=2000 BENCH_RT_SENDERS=20 BENCH_RT_RATE=50 BENCH_RT_DURATION=15
#   BENCH_RT_TEXT_LEN=64  BENCH_RT_SYNC_MEMBERS=500 BENCH_RT_SYNC_COMMANDS=40
#   BENCH_RT_SYNC_INTERVAL_MS=250 BENCH_RT_IDLE_MAX=10000 BENCH_RT_IDLE_USERS=1000
#   BENCH_RT_SKIP=""      space-separated parts to skip: fanout sync idle
#   LOADGEN_BIN           use this luojia-loadgen binary (else built with cargo, unless
#                         BENCH_SKIP_BUILD=1)
#   BENCH_IDLE_MAX=15, BENCH_IDLE_WAIT=300  see lib/common.sh
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

MEMBERS="${BENCH_RT_MEMBERS:-2000}"
SENDERS="${BENCH_RT_SENDERS:-20}"
RATE="${BENCH_RT_RATE:-50}"
DURATION="${BENCH_RT_DURATION:-15}"
TEXT_LEN="${BENCH_RT_TEXT_LEN:-64}"
SYNC_MEMBERS="${BENCH_RT_SYNC_MEMBERS:-500}"
SYNC_COMMANDS="${BENCH_RT_SYNC_COMMANDS:-40}"
SYNC_INTERVAL_MS="${BENCH_RT_SYNC_INTERVAL_MS:-250}"
IDLE_MAX="${BENCH_RT_IDLE_MAX:-10000}"
IDLE_USERS="${BENCH_RT_IDLE_USERS:-1000}"
SKIP=" ${BENCH_RT_SKIP:-} "
BCRYPT_COST=4

command -v curl >/dev/null 2>&1 || bench_die "curl is required"
command -v python3 >/dev/null 2>&1 || bench_die "python3 is required"

# --- open files: both the server and loadgen hold one descriptor per connection ---------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
bench_log "open file limit: $NOFILE"

loadgen_bin() {
    if [[ -n "${LOADGEN_BIN:-}" ]]; then
        [[ -x "$LOADGEN_BIN" ]] || bench_die "LOADGEN_BIN=$LOADGEN_BIN is not executable"
        echo "$LOADGEN_BIN"
        return
    fi
    local target
    target="$(cd "$BENCH_ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')" ||
        bench_die "cargo metadata failed"
    if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
        bench_log "building the load generator (cargo build --release -p luojia-loadgen)"
        (cd "$BENCH_ROOT" && cargo build --release -p luojia-loadgen >&2) || bench_die "loadgen build failed"
    fi
    [[ -x "$target/release/luojia-loadgen" ]] || bench_die "no binary at $target/release/luojia-loadgen"
    echo "$target/release/luojia-loadgen"
}
LOADGEN="$(loadgen_bin)"

bench_start_server APP_AUTH__BCRYPT_COST="$BCRYPT_COST"
SERVER_NOFILE="$(awk '/^Max open files/{print $4}' "/proc/$BENCH_SERVER_PID/limits")"
bench_log "server open file limit: $SERVER_NOFILE"

# run_loadgen LABEL ARGS...: runs loadgen, adds label and CPU use (cores) to its JSON line,
# appends it to runs.jsonl.
run_loadgen() {
    local label=$1
    shift
    local out stat0 stat1 srv0 srv1 t0 t1 self0 self1
    stat0="$(bench_cpu_ticks)"
    srv0="$(bench_proc_ticks "$BENCH_SERVER_PID")"
    t0="$(date +%s.%N)"
    out="$("$LOADGEN" "$@" 2> >(tee -a "$BENCH_TMP/loadgen.log" >&2))" || bench_die "loadgen $label failed"
    t1="$(date +%s.%N)"
    srv1="$(bench_proc_ticks "$BENCH_SERVER_PID")"
    stat1="$(bench_cpu_ticks)"
    out="$(printf '%s\n' "$out" | tail -n 1)"
    python3 - "$label" "$out" "$stat0" "$stat1" "$srv0" "$srv1" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY' >>"$BENCH_TMP/runs.jsonl"
import json, sys
label, out = sys.argv[1], json.loads(sys.argv[2])
(b0, _), (b1, _) = (map(int, a.split()) for a in sys.argv[3:5])
srv0, srv1 = int(sys.argv[5]), int(sys.argv[6])
wall = float(sys.argv[8]) - float(sys.argv[7])
hz = int(sys.argv[9])
out["label"] = label
out["wall_s"] = round(wall, 2)
# Whole-run averages (set-up included); "server" is 0 for the bare loop's own work.
out["cpu_cores"] = {"machine": round((b1 - b0) / hz / wall, 3), "server": round((srv1 - srv0) / hz / wall, 3)}
print(json.dumps(out))
PY
    python3 - "$(tail -n 1 "$BENCH_TMP/runs.jsonl")" <<'PY' >&2
import json, sys
r = json.loads(sys.argv[1])
lat = r.get("latency") or {}
keys = ("connections", "connections_open", "delivered", "expected", "lost", "duplicates", "errors",
        "deliveries_per_s", "kib_per_connection")
line = f"[bench]   {r['label']:<8} " + ", ".join(f"{k}={r[k]}" for k in keys if k in r)
if lat:
    line += f", p50 {lat['p50_ms']:.2f} ms p99 {lat['p99_ms']:.2f} ms max {lat['max_ms']:.2f} ms"
print(line)
PY
}

COMMON=(--url "$BENCH_URL" --concurrency 4)
CHAT=(--connections "$MEMBERS" --senders "$SENDERS" --rate "$RATE" --duration "$DURATION" --text-len "$TEXT_LEN")

if [[ "$SKIP" != *" fanout "* ]]; then
    bench_wait_idle
    CPU_BUSY_BEFORE="$BENCH_CPU_BUSY_BEFORE"
    bench_log "fan-out, bare broadcast loop: $MEMBERS members, $SENDERS senders, $RATE msg/s, ${DURATION}s"
    run_loadgen bare bare "${COMMON[@]}" --prefix b "${CHAT[@]}"
    bench_log "fan-out, server: same parameters"
    run_loadgen server chat "${COMMON[@]}" --prefix c "${CHAT[@]}"
else
    CPU_BUSY_BEFORE="$(bench_cpu_busy 3)"
fi

if [[ "$SKIP" != *" sync "* ]]; then
    bench_log "sync: $SYNC_MEMBERS members, $SYNC_COMMANDS seeks every ${SYNC_INTERVAL_MS} ms"
    run_loadgen sync sync "${COMMON[@]}" --prefix s --connections "$SYNC_MEMBERS" \
        --commands "$SYNC_COMMANDS" --interval-ms "$SYNC_INTERVAL_MS"
fi

IDLE_N=0
if [[ "$SKIP" != *" idle "* ]]; then
    # Leave headroom for the descriptors the processes already hold (database, logs, …).
    limit=$((SERVER_NOFILE < NOFILE ? SERVER_NOFILE : NOFILE))
    IDLE_N=$((limit - 500 < IDLE_MAX ? limit - 500 : IDLE_MAX))
    ((IDLE_N > 0)) || bench_die "open file limit $limit is too low for the idle test"
    users=$((IDLE_USERS < IDLE_N ? IDLE_USERS : IDLE_N))
    bench_log "idle: $IDLE_N connections over $users users (limit $limit open files)"
    run_loadgen idle idle "${COMMON[@]}" --prefix i --connections "$IDLE_N" --users "$users" \
        --server-pid "$BENCH_SERVER_PID"
fi

cat >"$BENCH_TMP/meta.json" <<JSON
{
  "members": $MEMBERS,
  "senders": $SENDERS,
  "rate_msgs_per_s": $RATE,
  "duration_s": $DURATION,
  "text_len": $TEXT_LEN,
  "sync_members": $SYNC_MEMBERS,
  "sync_commands": $SYNC_COMMANDS,
  "sync_interval_ms": $SYNC_INTERVAL_MS,
  "idle_max": $IDLE_MAX,
  "idle_connections": $IDLE_N,
  "idle_users": $IDLE_USERS,
  "bcrypt_cost": $BCRYPT_COST,
  "nofile_limit": "$NOFILE",
  "server_nofile_limit": "$SERVER_NOFILE",
  "cpu_busy_before_pct": ${CPU_BUSY_BEFORE:-0},
  "redis_path": "not measured",
  "note": "loadgen and the server share the machine; the bare loop runs inside loadgen"
}
JSON
bench_summarize realtime
