# shellcheck shell=bash
# Fixed-rate (open-loop) load with oha, for latency at a given request rate. wrk keeps a
# fixed number of requests in flight, so it measures throughput; oha -q sends at a fixed
# rate and, with --latency-correction, times each request from when it was due to be sent
# (no coordinated omission: a stalled server shows up as latency, not as fewer requests).
# Source it after scripts/lib.sh.
#
#   bench_require_oha       oha on PATH (or ~/.cargo/bin); else `cargo install --locked oha`
#   bench_oha LABEL ROUND RATE SECONDS CONNECTIONS [oha args... URL]
#                           appends one record to $BENCH_TMP/runs.jsonl, shaped like the wrk
#                           records (label, round, requests, rps, latency_us, errors,
#                           status_counts, cpu_cores) plus "kind": "oha", the target rate,
#                           and the requests cut off at the deadline

bench_require_oha() {
    if ! command -v oha >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/oha" ]]; then
        PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v oha >/dev/null 2>&1 && return 0
    command -v cargo >/dev/null 2>&1 || bench_die "oha is missing and there is no cargo to install it"
    bench_log "oha is missing; installing it (cargo install --locked oha, a few minutes)"
    cargo install --locked oha >&2 || bench_die "could not install oha (cargo install --locked oha)"
    PATH="$HOME/.cargo/bin:$PATH"
    command -v oha >/dev/null 2>&1 || bench_die "oha is not on PATH after installing it"
}

bench_oha() {
    local label=$1 round=$2 rate=$3 secs=$4 conns=$5
    shift 5
    local out="$BENCH_TMP/oha-$label-$round.json" rc=0 stat0 stat1 srv0 srv1 t0 t1
    local TIMEFORMAT='%3U %3S'
    stat0="$(bench_cpu_ticks)"
    srv0="$(bench_proc_ticks "$BENCH_SERVER_PID")"
    t0="$(date +%s.%N)"
    { time oha -q "$rate" -z "${secs}s" -c "$conns" --latency-correction --no-tui \
        --output-format json -o "$out" "$@" 2>"$BENCH_TMP/oha-stderr.txt" || rc=$?; } 2>"$BENCH_TMP/oha-time.txt"
    t1="$(date +%s.%N)"
    srv1="$(bench_proc_ticks "$BENCH_SERVER_PID")"
    stat1="$(bench_cpu_ticks)"
    if ((rc != 0)) || [[ ! -s "$out" ]]; then
        cat "$BENCH_TMP/oha-stderr.txt" >&2 || true
        bench_die "oha failed for $label"
    fi
    local json
    json="$(python3 - "$out" "$label" "$round" "$rate" "$secs" "$conns" "$stat0" "$stat1" "$srv0" "$srv1" \
        "$t0" "$t1" "$(cat "$BENCH_TMP/oha-time.txt")" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
a = sys.argv
d = json.load(open(a[1]))
label, rnd, rate, secs, conns = a[2], int(a[3]), float(a[4]), float(a[5]), int(a[6])
(b0, _), (b1, _) = (map(int, x.split()) for x in a[7:9])
srv0, srv1 = int(a[9]), int(a[10])
wall = float(a[12]) - float(a[11])
oha_user, oha_sys = (float(x) for x in a[13].split()[-2:])
hz = int(a[14])
s, pct = d["summary"], d.get("latencyPercentiles") or {}
codes = {str(k): int(v) for k, v in (d.get("statusCodeDistribution") or {}).items()}
errs = {str(k): int(v) for k, v in (d.get("errorDistribution") or {}).items()}
aborted = errs.pop("aborted due to deadline", 0)
ok = sum(v for k, v in codes.items() if k.startswith("2"))
responses = sum(codes.values())
duration = float(s.get("total") or secs)
us = lambda v: round(v * 1e6, 1) if v is not None else None
machine = (b1 - b0) / hz / wall
server = (srv1 - srv0) / hz / wall
oha = (oha_user + oha_sys) / wall
print(json.dumps({
    "label": label, "round": rnd, "kind": "oha",
    "target_rate": rate, "connections": conns,
    "requests": responses, "ok_2xx": ok, "bytes": int(s.get("totalData") or 0),
    "duration_s": duration,
    # achieved rate: answered requests per second of the run
    "rps": responses / duration if duration else 0.0,
    "ok_rps": ok / duration if duration else 0.0,
    "aborted_at_deadline": aborted,
    "latency_us": {
        "mean": us(s.get("average")), "min": us(s.get("fastest")), "max": us(s.get("slowest")),
        "p50": us(pct.get("p50")), "p75": us(pct.get("p75")), "p90": us(pct.get("p90")),
        "p95": us(pct.get("p95")), "p99": us(pct.get("p99")), "p999": us(pct.get("p99.9")),
        "p9999": us(pct.get("p99.99")),
    },
    "errors": {"status": responses - ok, "socket": sum(errs.values()), "by_kind": errs},
    "status_counts": codes,
    "cpu_cores": {k: round(v, 3) for k, v in
                  dict(machine=machine, server=server, oha=oha, other=machine - server - oha).items()},
}))
EOF
)" || bench_die "could not read oha's output for $label"
    printf '%s\n' "$json" >>"$BENCH_TMP/runs.jsonl"
    python3 - "$json" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
l = r["latency_us"]
print(f"[bench]   {r['label']:<10} round {r['round']}: {r['rps']:10.1f} req/s (target {r['target_rate']:.0f})  "
      f"p50 {l['p50']/1000:7.2f} ms  p99 {l['p99']/1000:7.2f} ms  max {l['max']/1000:7.2f} ms  "
      f"non-2xx {r['errors']['status']}  socket errors {r['errors']['socket']}  "
      f"cpu: server {r['cpu_cores']['server']:.2f} oha {r['cpu_cores']['oha']:.2f} "
      f"other {r['cpu_cores']['other']:.2f} cores")
EOF
}
