#!/usr/bin/env bash
# Scenario "realtime": WebSocket chat fan-out, seek latency and memory per idle connection,
# driven by the luojia-loadgen client (tools/loadgen). Writes docs/bench/realtime.json
# (rendered by scripts/bench/sections/realtime.py).
#
#   (a) fan-out: BENCH_RT_MEMBERS members in one room, BENCH_RT_SENDERS of them sending
#       BENCH_RT_RATE chat msg/s in total for BENCH_RT_DURATION s, against the server and
#       against a bare tokio broadcast loop inside loadgen (same client, same parameters,
#       same run): throughput ratio, loss, duplicates. The offered load (members x rate,
#       100,000 deliveries/s by default) is close to what this machine carries with the
#       client on it, so latencies there include queueing; the p99 ratio is measured by a
#       second pair of runs at BENCH_RT_LATENCY_RATE msg/s (default half of BENCH_RT_RATE;
#       0: skip it and compare p99 at BENCH_RT_RATE). Both p99s are reported.
#   (b) sync: BENCH_RT_SYNC_MEMBERS members; one sends BENCH_RT_SYNC_COMMANDS seeks; latency
#       from send to each member's playback_state.
#   (c) idle: up to BENCH_RT_IDLE_MAX authenticated idle connections (as many as the open
#       file limit allows); the server's VmRSS growth per connection.
#   (d) redis: two more instances, A and B, sharing one SQLite file, one Redis (under a
#       fresh key prefix per run) and one JWT secret; BENCH_RT_REDIS_MEMBERS members in one
#       room, BENCH_RT_REDIS_SENDERS of them (all on A) sending BENCH_RT_REDIS_RATE chat msg/s
#       in total, the others (receivers) split evenly over A and B: delivery latency, loss
#       and duplicates at the receivers on A ("local") and on B ("remote": A publishes to
#       Redis, B's subscription delivers), same run. Headline: remote p99 - local p99. Needs
#       Redis at BENCH_RT_REDIS_URL; its keys under the run's prefix are deleted afterwards.
#   (e) cpu: CPU per delivery, chat in one room at fixed rates (BENCH_RT_CPU_POINTS: members
#       and their rates; one set-up per member count, one step per rate): the server's CPU
#       seconds (utime+stime from /proc/<pid>/stat, from the first send to the end of the
#       drain, set-up excluded) / deliveries, next to the bare broadcast loop's, measured in
#       its own process (`luojia-loadgen bare-server`) driven by the same client in the same
#       run. Each step also has send → chat_ack latency and the out-of-order count.
#   (f) room: for each of BENCH_RT_ROOM_SIZES members, a fresh server: they connect, then all
#       join one room at once (first → last `joined`), then leave, then disconnect; VmRSS at
#       each stage (KiB per member, and after leaving vs before joining).
#   (g) saturation: BENCH_RT_SAT_MEMBERS members, the chat rate raised through
#       BENCH_RT_SAT_RATES until deliveries fall behind (delivered or acked below 99 %, or p99
#       above BENCH_RT_SAT_P99_MS), for the bare loop and the server in the same run; then the
#       server once more at 80 % of its own capacity (p99 there).
#   (h) mariadb: send → chat_ack at BENCH_RT_ACK_MEMBERS members x BENCH_RT_ACK_RATE msg/s on
#       a fresh server using a per-run MariaDB database (created and dropped here); the SQLite
#       counterpart is the cpu part's same point (200 x 100 by default).
#   (i) burst: BENCH_RT_BURST_MEMBERS members, BENCH_RT_BURST_SENDERS senders each sending
#       BENCH_RT_BURST_SIZE chats back to back every BENCH_RT_BURST_INTERVAL_MS ms: chats out
#       of seq order at the receivers (target 0).
#
# The server runs with APP_AUTH__BCRYPT_COST=4 and huge register/login rate limits so that
# thousands of bench users register quickly (not production settings; the accounts scenario
# measures bcrypt cost 12). The script raises `ulimit -n` to 65536 (or the hard limit) and
# the server inherits it.
#
# Knobs (environment):
#   BENCH_RT_MEMBERS=2000 BENCH_RT_SENDERS=20 BENCH_RT_RATE=50 BENCH_RT_DURATION=15
#   BENCH_RT_LATENCY_RATE=<BENCH_RT_RATE / 2>
#   BENCH_RT_TEXT_LEN=64  BENCH_RT_SYNC_MEMBERS=500 BENCH_RT_SYNC_COMMANDS=40
#   BENCH_RT_SYNC_INTERVAL_MS=250 BENCH_RT_IDLE_MAX=10000 BENCH_RT_IDLE_USERS=1000
#   BENCH_RT_REDIS_MEMBERS=200 BENCH_RT_REDIS_SENDERS=10 BENCH_RT_REDIS_RATE=20
#   BENCH_RT_REDIS_DURATION=<BENCH_RT_DURATION> BENCH_RT_REDIS_URL=redis://127.0.0.1:6379
#   BENCH_RT_CPU_POINTS="200:20,100 500:20,100 2000:50" BENCH_RT_CPU_SENDERS=20
#   BENCH_RT_CPU_DURATION=10  BENCH_RT_ROOM_SIZES="500 2000"
#   BENCH_RT_SAT_MEMBERS=500 BENCH_RT_SAT_RATES=20,40,80,160,320,640,1280
#   BENCH_RT_SAT_DURATION=5 BENCH_RT_SAT_P99_MS=500
#   BENCH_RT_ACK_MEMBERS=200 BENCH_RT_ACK_SENDERS=20 BENCH_RT_ACK_RATE=100
#   BENCH_RT_ACK_DURATION=<BENCH_RT_CPU_DURATION>  (MariaDB: BENCH_MYSQL_HOST/PORT/USER)
#   BENCH_RT_BURST_MEMBERS=100 BENCH_RT_BURST_SENDERS=10 BENCH_RT_BURST_SIZE=5
#   BENCH_RT_BURST_INTERVAL_MS=500 BENCH_RT_BURST_DURATION=10
#   BENCH_RT_SKIP=""      space-separated parts to skip: fanout sync idle redis cpu room
#                         saturation mariadb burst
#                         (the Redis part alone: BENCH_RT_SKIP="fanout sync idle"; the
#                         JSON then holds only the parts that ran, so point BENCH_OUT_DIR
#                         elsewhere to keep docs/bench/realtime.json)
#   LOADGEN_BIN           use this luojia-loadgen binary (else built with cargo, unless
#                         BENCH_SKIP_BUILD=1)
#   BENCH_IDLE_MAX=15, BENCH_IDLE_WAIT=300  see scripts/lib.sh
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MEMBERS="${BENCH_RT_MEMBERS:-2000}"
SENDERS="${BENCH_RT_SENDERS:-20}"
RATE="${BENCH_RT_RATE:-50}"
LATENCY_RATE="${BENCH_RT_LATENCY_RATE:-$(python3 -c "print(${RATE} / 2)")}"
DURATION="${BENCH_RT_DURATION:-15}"
TEXT_LEN="${BENCH_RT_TEXT_LEN:-64}"
SYNC_MEMBERS="${BENCH_RT_SYNC_MEMBERS:-500}"
SYNC_COMMANDS="${BENCH_RT_SYNC_COMMANDS:-40}"
SYNC_INTERVAL_MS="${BENCH_RT_SYNC_INTERVAL_MS:-250}"
IDLE_MAX="${BENCH_RT_IDLE_MAX:-10000}"
IDLE_USERS="${BENCH_RT_IDLE_USERS:-1000}"
REDIS_MEMBERS="${BENCH_RT_REDIS_MEMBERS:-200}"
REDIS_SENDERS="${BENCH_RT_REDIS_SENDERS:-10}"
REDIS_RATE="${BENCH_RT_REDIS_RATE:-20}"
REDIS_DURATION="${BENCH_RT_REDIS_DURATION:-$DURATION}"
REDIS_URL="${BENCH_RT_REDIS_URL:-redis://127.0.0.1:6379}"
CPU_POINTS="${BENCH_RT_CPU_POINTS:-200:20,100 500:20,100 2000:50}"
CPU_SENDERS="${BENCH_RT_CPU_SENDERS:-20}"
CPU_DURATION="${BENCH_RT_CPU_DURATION:-10}"
ROOM_SIZES="${BENCH_RT_ROOM_SIZES:-500 2000}"
SAT_MEMBERS="${BENCH_RT_SAT_MEMBERS:-500}"
SAT_RATES="${BENCH_RT_SAT_RATES:-20,40,80,160,320,640,1280}"
SAT_DURATION="${BENCH_RT_SAT_DURATION:-5}"
SAT_P99_MS="${BENCH_RT_SAT_P99_MS:-500}"
ACK_MEMBERS="${BENCH_RT_ACK_MEMBERS:-200}"
ACK_SENDERS="${BENCH_RT_ACK_SENDERS:-20}"
ACK_RATE="${BENCH_RT_ACK_RATE:-100}"
ACK_DURATION="${BENCH_RT_ACK_DURATION:-$CPU_DURATION}"
BURST_MEMBERS="${BENCH_RT_BURST_MEMBERS:-100}"
BURST_SENDERS="${BENCH_RT_BURST_SENDERS:-10}"
BURST_SIZE="${BENCH_RT_BURST_SIZE:-5}"
BURST_INTERVAL_MS="${BENCH_RT_BURST_INTERVAL_MS:-500}"
BURST_DURATION="${BENCH_RT_BURST_DURATION:-10}"
SKIP=" ${BENCH_RT_SKIP:-} "
BCRYPT_COST=4

command -v curl >/dev/null 2>&1 || bench_die "curl is required"
command -v python3 >/dev/null 2>&1 || bench_die "python3 is required"


if [[ "$SKIP" != *" redis "* ]]; then
    # Fail now rather than after the long parts.
    [[ "$(redis_do PING 2>/dev/null)" == PONG ]] ||
        bench_die "no Redis answers at $REDIS_URL (set BENCH_RT_REDIS_URL, or BENCH_RT_SKIP=redis)"
fi

# --- open files: both the server and loadgen hold one descriptor per connection ---------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
bench_log "open file limit: $NOFILE"

LOADGEN="$(bench_release_bin LOADGEN_BIN luojia-loadgen luojia-loadgen)"

bench_start_server APP_AUTH__BCRYPT_COST="$BCRYPT_COST"
SERVER_NOFILE="$(awk '/^Max open files/{print $4}' "/proc/$BENCH_SERVER_PID/limits")"
bench_log "server open file limit: $SERVER_NOFILE"
# The server processes whose CPU run_loadgen counts (both instances in the Redis part).
SERVER_PIDS=("$BENCH_SERVER_PID")

server_ticks() {
    local pid sum=0
    for pid in "${SERVER_PIDS[@]}"; do
        sum=$((sum + $(bench_proc_ticks "$pid")))
    done
    echo "$sum"
}

# run_loadgen LABEL ARGS...: runs loadgen, adds label and CPU use (cores) to its JSON line,
# appends it to runs.jsonl.
run_loadgen() {
    local label=$1
    shift
    local out stat0 stat1 srv0 srv1 t0 t1
    stat0="$(bench_cpu_ticks)"
    srv0="$(server_ticks)"
    t0="$(date +%s.%N)"
    out="$("$LOADGEN" "$@" 2> >(tee -a "$BENCH_TMP/loadgen.log" >&2))" || bench_die "loadgen $label failed"
    t1="$(date +%s.%N)"
    srv1="$(server_ticks)"
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
        "deliveries_per_s", "kib_per_connection", "setup_retries")
line = f"[bench]   {r['label']:<8} " + ", ".join(f"{k}={r[k]}" for k in keys if k in r)
if lat:
    line += f", p50 {lat['p50_ms']:.2f} ms p99 {lat['p99_ms']:.2f} ms max {lat['max_ms']:.2f} ms"
print(line)
for side in ("local", "remote"):
    g = r.get(side)
    if g:
        print(f"[bench]     {side:<6} {g['members']} members: {g['lost']} lost, {g['duplicates']} dups of "
              f"{g['expected']}, p50 {g['latency']['p50_ms']:.2f} ms p99 {g['latency']['p99_ms']:.2f} ms")
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
    if python3 -c "import sys; sys.exit(0 if float('$LATENCY_RATE') > 0 else 1)"; then
        LAT=(--connections "$MEMBERS" --senders "$SENDERS" --rate "$LATENCY_RATE" --duration "$DURATION" --text-len "$TEXT_LEN")
        bench_log "latency at $LATENCY_RATE msg/s: bare broadcast loop"
        run_loadgen bare-latency bare "${COMMON[@]}" --prefix bl "${LAT[@]}"
        bench_log "latency at $LATENCY_RATE msg/s: server"
        run_loadgen server-latency chat "${COMMON[@]}" --prefix cl "${LAT[@]}"
    fi
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

REDIS_META='"not measured (BENCH_RT_SKIP=redis)"'
if [[ "$SKIP" != *" redis "* ]]; then
    REDIS_PREFIX="luojia-bench-$(python3 -c 'import secrets; print(secrets.token_hex(6))'):"
    REDIS_VERSION="$(redis_do INFO server | sed -n 's/^redis_version:\([^[:space:]]*\).*/\1/p')"
    # One database (a SQLite file in A's data dir, opened by URL from B), one Redis under
    # the run's prefix, one JWT secret (a token A issued is valid on B).
    SHARED=(APP_AUTH__BCRYPT_COST="$BCRYPT_COST"
        APP_DATABASE__URL="sqlite://$BENCH_TMP/redis-a/luojia.db?mode=rwc"
        APP_REDIS__URL="$REDIS_URL" APP_REDIS__KEY_PREFIX="$REDIS_PREFIX"
        APP_AUTH__JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
    # A first: it creates and migrates the database, so B finds nothing left to migrate.
    bench_start_instance redis-a "${SHARED[@]}"
    URL_A="$BENCH_INSTANCE_URL" PID_A="$BENCH_INSTANCE_PID"
    bench_start_instance redis-b "${SHARED[@]}"
    URL_B="$BENCH_INSTANCE_URL" PID_B="$BENCH_INSTANCE_PID"
    # The pub/sub counters of an instance (GET /internal/stats), one JSON object.
    pubsub_stats() { curl -fsS "$1/internal/stats" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["pubsub"]))'; }
    both_healthy() {
        python3 -c 'import json,sys; sys.exit(0 if all(json.loads(a)["healthy"] for a in sys.argv[1:]) else 1)' \
            "$(pubsub_stats "$URL_A")" "$(pubsub_stats "$URL_B")"
    }
    deadline=$((SECONDS + 30))
    until both_healthy; do
        ((SECONDS < deadline)) || bench_die "the instances' Redis subscriptions were not healthy within 30 s"
        sleep 0.5
    done
    bench_wait_idle
    bench_log "redis: $REDIS_MEMBERS members over 2 instances, $REDIS_SENDERS senders on A, $REDIS_RATE msg/s, ${REDIS_DURATION}s (Redis $REDIS_VERSION, prefix $REDIS_PREFIX)"
    PS_A0="$(pubsub_stats "$URL_A")" PS_B0="$(pubsub_stats "$URL_B")"
    SERVER_PIDS=("$PID_A" "$PID_B")
    run_loadgen redis chat --url "$URL_A" --ws-urls "$URL_A,$URL_B" --concurrency 4 --prefix r \
        --connections "$REDIS_MEMBERS" --senders "$REDIS_SENDERS" --rate "$REDIS_RATE" \
        --duration "$REDIS_DURATION" --text-len "$TEXT_LEN"
    SERVER_PIDS=("$BENCH_SERVER_PID")
    PS_A1="$(pubsub_stats "$URL_A")" PS_B1="$(pubsub_stats "$URL_B")"
    # Add the instances' pub/sub counters over the run to its record (a frame dropped on the
    # way to Redis would show as "dropped").
    python3 - "$BENCH_TMP/runs.jsonl" "$PS_A0" "$PS_A1" "$PS_B0" "$PS_B1" <<'PY'
import json, sys
path = sys.argv[1]
a0, a1, b0, b1 = (json.loads(x) for x in sys.argv[2:])
lines = open(path).read().splitlines()
run = json.loads(lines[-1])
keys = ("published", "dropped", "received", "resubscribes")
run["pubsub"] = {"a": {k: a1[k] - a0[k] for k in keys}, "b": {k: b1[k] - b0[k] for k in keys}}
lines[-1] = json.dumps(run)
open(path, "w").write("\n".join(lines) + "\n")
print(f"[bench]     pub/sub over the run: A {run['pubsub']['a']}, B {run['pubsub']['b']}", file=sys.stderr)
PY
    bench_stop_pid "$PID_B"
    bench_stop_pid "$PID_A"
    bench_log "deleted $(redis_do purge "$REDIS_PREFIX") Redis keys under $REDIS_PREFIX"
    REDIS_META="$(python3 - "$REDIS_MEMBERS" "$REDIS_SENDERS" "$REDIS_RATE" "$REDIS_DURATION" \
        "$REDIS_URL" "$REDIS_VERSION" "$BENCH_CPU_BUSY_BEFORE" <<'PY'
import json, sys
from urllib.parse import urlparse
members, senders, rate, duration, url, version, busy = sys.argv[1:]
u = urlparse(url)  # without any password
print(json.dumps({"instances": 2, "members": int(members), "senders": int(senders),
                  "rate_msgs_per_s": float(rate), "duration_s": float(duration),
                  "redis": f"{u.hostname}:{u.port or 6379}", "redis_version": version,
                  "database": "one SQLite file shared by both instances",
                  "cpu_busy_before_pct": int(busy)}))
PY
)"
fi

# --- the bare loop in its own process ---------------------------------------------------
BARE_PID="" BARE_URL=""
start_bare_server() {
    "$LOADGEN" bare-server >"$BENCH_TMP/bare-server.out" 2>"$BENCH_TMP/bare-server.log" &
    BARE_PID=$!
    bench_track_pid "$BARE_PID"
    local deadline=$((SECONDS + 15)) addr=""
    until addr="$(sed -n 's/.*"listen":"\([^"]*\)".*/\1/p' "$BENCH_TMP/bare-server.out")" && [[ -n "$addr" ]]; do
        kill -0 "$BARE_PID" 2>/dev/null || bench_die "bare-server exited: $(cat "$BENCH_TMP/bare-server.log")"
        ((SECONDS < deadline)) || bench_die "bare-server did not start within 15 s"
        sleep 0.1
    done
    BARE_URL="http://$addr"
    bench_log "bare loop (own process, pid $BARE_PID) on $BARE_URL"
}

# with_server_pids PID.. -- CMD..: runs CMD with SERVER_PIDS (whose CPU run_loadgen
# reports as cpu_cores.server) set to PID..
with_server_pids() {
    local pids=()
    while [[ $1 != -- ]]; do pids+=("$1"); shift; done
    shift
    local saved=("${SERVER_PIDS[@]}")
    SERVER_PIDS=("${pids[@]}")
    "$@"
    SERVER_PIDS=("${saved[@]}")
}

if [[ "$SKIP" != *" cpu "* || "$SKIP" != *" saturation "* ]]; then
    start_bare_server
fi

if [[ "$SKIP" != *" cpu "* ]]; then
    for point in $CPU_POINTS; do
        members="${point%%:*}" rates="${point#*:}"
        ARGS=(--connections "$members" --senders "$CPU_SENDERS" --rates "$rates" --duration "$CPU_DURATION"
            --text-len "$TEXT_LEN")
        bench_wait_idle
        bench_log "CPU per delivery: bare loop, $members members at $rates msg/s"
        with_server_pids "$BARE_PID" -- run_loadgen "cpu-bare-$members" bare --external --url "$BARE_URL" \
            --server-pid "$BARE_PID" "${COMMON[@]:2}" --prefix x "${ARGS[@]}"
        bench_log "CPU per delivery: server, $members members at $rates msg/s"
        run_loadgen "cpu-server-$members" chat "${COMMON[@]}" --server-pid "$BENCH_SERVER_PID" --prefix "p$members" \
            "${ARGS[@]}"
    done
fi

if [[ "$SKIP" != *" saturation "* ]]; then
    SAT=(--connections "$SAT_MEMBERS" --senders 1 --rates "$SAT_RATES" --duration "$SAT_DURATION" --drain 2
        --saturate --max-p99-ms "$SAT_P99_MS" --text-len "$TEXT_LEN")
    bench_wait_idle
    bench_log "saturation: bare loop, $SAT_MEMBERS members, rates $SAT_RATES msg/s"
    with_server_pids "$BARE_PID" -- run_loadgen sat-bare bare --external --url "$BARE_URL" \
        --server-pid "$BARE_PID" "${COMMON[@]:2}" --prefix x "${SAT[@]}"
    bench_log "saturation: server, same steps"
    run_loadgen sat-server chat "${COMMON[@]}" --server-pid "$BENCH_SERVER_PID" --prefix q "${SAT[@]}"
    RATE80="$(python3 - "$BENCH_TMP/runs.jsonl" "$SAT_MEMBERS" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cap = [r for r in runs if r["label"] == "sat-server"][-1].get("capacity_deliveries_per_s")
print(round(0.8 * cap / int(sys.argv[2]), 1) if cap else 0)
PY
)"
    if python3 -c "import sys; sys.exit(0 if float('$RATE80') > 0 else 1)"; then
        bench_log "saturation: server at 80 % of its capacity ($RATE80 msg/s)"
        run_loadgen sat-server-80 chat "${COMMON[@]}" --server-pid "$BENCH_SERVER_PID" --prefix q8 \
            --connections "$SAT_MEMBERS" --senders 1 --rate "$RATE80" --duration "$SAT_DURATION" --drain 2 \
            --text-len "$TEXT_LEN"
    else
        bench_log "saturation: the server kept up at no step; no 80 % run"
    fi
fi
[[ -z "$BARE_PID" ]] || bench_stop_pid "$BARE_PID"

if [[ "$SKIP" != *" burst "* ]]; then
    bench_log "burst: $BURST_MEMBERS members, $BURST_SENDERS senders x $BURST_SIZE chats every ${BURST_INTERVAL_MS} ms"
    run_loadgen burst chat "${COMMON[@]}" --server-pid "$BENCH_SERVER_PID" --prefix u \
        --connections "$BURST_MEMBERS" --senders "$BURST_SENDERS" --burst "$BURST_SIZE" \
        --burst-interval-ms "$BURST_INTERVAL_MS" --duration "$BURST_DURATION" --text-len "$TEXT_LEN"
fi

MARIADB_VERSION=""
if [[ "$SKIP" != *" mariadb "* ]]; then
    bench_mariadb_create
    MARIADB_VERSION="$BENCH_MARIADB_VERSION"
    bench_start_instance mariadb APP_AUTH__BCRYPT_COST="$BCRYPT_COST" APP_DATABASE__URL="$BENCH_MARIADB_URL"
    bench_wait_idle
    bench_log "send -> chat_ack on MariaDB: $ACK_MEMBERS members x $ACK_RATE msg/s"
    with_server_pids "$BENCH_INSTANCE_PID" -- run_loadgen ack-mariadb chat --url "$BENCH_INSTANCE_URL" \
        --concurrency 4 --server-pid "$BENCH_INSTANCE_PID" --prefix m --connections "$ACK_MEMBERS" \
        --senders "$ACK_SENDERS" --rate "$ACK_RATE" --duration "$ACK_DURATION" --text-len "$TEXT_LEN"
    bench_stop_pid "$BENCH_INSTANCE_PID"
    bench_mariadb_drop
fi

if [[ "$SKIP" != *" room "* ]]; then
    for size in $ROOM_SIZES; do
        # A fresh server each time: the memory is measured from its baseline.
        bench_start_instance "room-$size" APP_AUTH__BCRYPT_COST="$BCRYPT_COST"
        bench_wait_idle
        bench_log "room: $size members join one room (fresh server, pid $BENCH_INSTANCE_PID)"
        with_server_pids "$BENCH_INSTANCE_PID" -- run_loadgen "room-$size" room --url "$BENCH_INSTANCE_URL" \
            --concurrency 4 --prefix "j$size" --connections "$size" --server-pid "$BENCH_INSTANCE_PID"
        bench_stop_pid "$BENCH_INSTANCE_PID"
    done
fi

cat >"$BENCH_TMP/meta.json" <<JSON
{
  "members": $MEMBERS,
  "senders": $SENDERS,
  "rate_msgs_per_s": $RATE,
  "latency_rate_msgs_per_s": $LATENCY_RATE,
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
  "redis_path": $REDIS_META,
  "cpu_points": "$CPU_POINTS",
  "cpu_senders": $CPU_SENDERS,
  "cpu_duration_s": $CPU_DURATION,
  "room_sizes": "$ROOM_SIZES",
  "sat_members": $SAT_MEMBERS,
  "sat_rates": "$SAT_RATES",
  "sat_duration_s": $SAT_DURATION,
  "sat_p99_bound_ms": $SAT_P99_MS,
  "ack_members": $ACK_MEMBERS,
  "ack_senders": $ACK_SENDERS,
  "ack_rate": $ACK_RATE,
  "mariadb_version": "$MARIADB_VERSION",
  "burst": {"members": $BURST_MEMBERS, "senders": $BURST_SENDERS, "size": $BURST_SIZE, "interval_ms": $BURST_INTERVAL_MS, "duration_s": $BURST_DURATION},
  "skipped": "$(echo $SKIP)",
  "note": "loadgen and the server share the machine; the fan-out part's bare loop runs inside loadgen, the cpu and saturation parts' in its own process (bare-server)"
}
JSON
bench_summarize realtime
