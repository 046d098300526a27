#!/usr/bin/env bash
# Scenario "catalog": the catalog's first page against the empty route (GET /healthz) in
# the same run, its latency at a fixed request rate, HLS segment throughput through a real
# nginx (and through the backend directly), and ingest speed for a 1080p source.
# Writes docs/bench/catalog.json (rendered by scripts/bench/report.py).
#
# Knobs (environment):
#   BENCH_DURATION=10          seconds per measured wrk run
#   BENCH_ROUNDS=3             alternating rounds (empty route, first page, first page as
#                              admin; then nginx segment, backend segment)
#   BENCH_WARMUP=5             seconds of warm-up per route before the rounds
#   BENCH_THREADS=2            wrk threads
#   BENCH_CONNECTIONS=32       wrk connections for the GET routes
#   BENCH_RATE=10000           fixed request rate (req/s) for the open-loop latency runs
#   BENCH_RATE_DURATION=30     seconds per fixed-rate run
#   BENCH_RATE_CONNECTIONS=50  oha connections for the fixed-rate runs
#   BENCH_ADMIN_RATE=1000      fixed rate for the uncached (admin) first page, which cannot
#                              take BENCH_RATE on a small machine (0: skip that run)
#   BENCH_SEGMENT_CONNECTIONS=16  wrk connections for the segment runs
#   BENCH_EXTRA_MOVIES=20      movies created through the API (besides the 5 demo movies)
#   BENCH_INGEST=1             run the ingest benchmark (0: skip it)
#   BENCH_INGEST_SIZE="1920 1080 60"  width height seconds of the synthetic ingest source
#   INGEST_BENCH_BIN           a built luojia-media `ingest_bench` example to use (else it
#                              is built with cargo unless BENCH_SKIP_BUILD=1)
#   BENCH_SOURCE_DIR           the checkout the binaries were built from (default: this
#                              repository); its commit is recorded, its nginx.conf is used
#                              and the ingest example is built there
#   BENCH_IDLE_MAX=15, BENCH_IDLE_WAIT=300  wait up to that long for the machine to be at
#                              most that % busy before measuring (see scripts/lib.sh)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=lib/nginx.sh
source "$BENCH_DIR/lib/nginx.sh"
# shellcheck source=lib/oha.sh
source "$BENCH_DIR/lib/oha.sh"

DURATION="${BENCH_DURATION:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
WARMUP="${BENCH_WARMUP:-5}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
RATE="${BENCH_RATE:-10000}"
RATE_DURATION="${BENCH_RATE_DURATION:-30}"
RATE_CONNS="${BENCH_RATE_CONNECTIONS:-50}"
ADMIN_RATE="${BENCH_ADMIN_RATE:-1000}"
SEG_CONNS="${BENCH_SEGMENT_CONNECTIONS:-16}"
EXTRA_MOVIES="${BENCH_EXTRA_MOVIES:-20}"
INGEST="${BENCH_INGEST:-1}"
read -r INGEST_W INGEST_H INGEST_S <<<"${BENCH_INGEST_SIZE:-1920 1080 60}"
SOURCE_DIR="${BENCH_SOURCE_DIR:-$BENCH_ROOT}"
export BENCH_SOURCE_DIR="$SOURCE_DIR"
HELPERS="$BENCH_DIR/lib/catalog_helpers.py"

ADMIN="benchadmin"
ADMIN_EMAIL="$ADMIN@example.com"
VIEWER="benchviewer"
PASSWORD="benchpassword1"

bench_require_tools
bench_require_oha
bench_require_nginx
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    bench_log "ffmpeg is missing (seed-demo and the ingest benchmark need it); installing it with apt-get"
    apt-get install -y ffmpeg >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 || true; apt-get install -y ffmpeg >/dev/null; } ||
        bench_die "could not install ffmpeg (apt-get install ffmpeg)"
fi
LUOJIA_BIN="$(bench_server_bin)"
export LUOJIA_BIN

# The ingest example, built before anything is measured.
INGEST_BIN=""
if [[ $INGEST == 1 ]]; then
    if [[ -n "${INGEST_BENCH_BIN:-}" ]]; then
        INGEST_BIN="$INGEST_BENCH_BIN"
    else
        target="$(bench_target_dir "$SOURCE_DIR")"
        if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
            bench_log "building the ingest benchmark (cargo build --release -p luojia-media --example ingest_bench)"
            (cd "$SOURCE_DIR" && cargo build --release -p luojia-media --example ingest_bench >&2) ||
                bench_die "building ingest_bench failed"
        fi
        INGEST_BIN="$target/release/examples/ingest_bench"
    fi
    [[ -x "$INGEST_BIN" ]] || bench_die "no ingest_bench binary at $INGEST_BIN"
fi

bench_start_server
DATA="$BENCH_TMP/data"
BACKEND_PORT="${BENCH_URL##*:}"
# The admin commands run against the same data dir as the server, as an operator would.
luojia_cli() {
    env APP_DATA_DIR="$DATA" APP_LOG__LEVEL=warn "$LUOJIA_BIN" "$@"
}

# --- the catalog -------------------------------------------------------------------------------
bench_log "seeding the demo catalog (luojia seed-demo: 5 movies transcoded with ffmpeg)"
timeout 900 env APP_DATA_DIR="$DATA" APP_LOG__LEVEL=warn "$LUOJIA_BIN" seed-demo \
    >"$BENCH_TMP/seed-demo.log" 2>&1 || {
    tail -n 30 "$BENCH_TMP/seed-demo.log" >&2
    bench_die "luojia seed-demo failed"
}

post_json() { # URL BODY [TOKEN] -> body, then the status code on the last line
    local auth=()
    [[ -n "${3:-}" ]] && auth=(-H "Authorization: Bearer $3")
    curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' "${auth[@]}" -d "$2" "$1"
}
register() {
    local out
    out="$(post_json "$BENCH_URL/api/v1/auth/register" \
        "{\"username\":\"$1\",\"email\":\"$2\",\"password\":\"$PASSWORD\"}")"
    [[ "${out##*$'\n'}" == 201 ]] || bench_die "register $1 answered ${out##*$'\n'}: ${out%$'\n'*}"
}
login() { # USERNAME -> access token
    local out
    out="$(post_json "$BENCH_URL/api/v1/auth/login" "{\"login\":\"$1\",\"password\":\"$PASSWORD\"}")"
    [[ "${out##*$'\n'}" == 200 ]] || bench_die "login $1 answered ${out##*$'\n'}: ${out%$'\n'*}"
    bench_json_field "${out%$'\n'*}" 'd["tokens"]["access_token"]'
}

register "$ADMIN" "$ADMIN_EMAIL"
luojia_cli user create-admin --username "$ADMIN" --email "$ADMIN_EMAIL" >"$BENCH_TMP/create-admin.log" 2>&1 ||
    bench_die "luojia user create-admin failed: $(cat "$BENCH_TMP/create-admin.log")"
ADMIN_TOKEN="$(login "$ADMIN")"
register "$VIEWER" "$VIEWER@example.com"
VIEWER_TOKEN="$(login "$VIEWER")"

bench_log "creating $EXTRA_MOVIES movies through POST /api/v1/movies; marking them ready (with a poster) in SQLite"
python3 "$HELPERS" seed "$BENCH_URL" "$ADMIN_TOKEN" "$DATA" "$EXTRA_MOVIES" >"$BENCH_TMP/seed.json" ||
    bench_die "creating the movies failed"

# --- sanity: the routes answer as expected -------------------------------------------------------
body="$(curl -fsS "$BENCH_URL/healthz")" || bench_die "GET /healthz failed"
[[ "$body" == *'"ok"'* ]] || bench_die "GET /healthz answered $body"

curl -fsS -o "$BENCH_TMP/page.json" "$BENCH_URL/api/v1/movies" || bench_die "GET /api/v1/movies failed"
curl -fsS -o "$BENCH_TMP/page-admin.json" -H "Authorization: Bearer $ADMIN_TOKEN" "$BENCH_URL/api/v1/movies" ||
    bench_die "GET /api/v1/movies as admin failed"
PAGE_FACTS="$(python3 - "$BENCH_TMP/page.json" "$BENCH_TMP/page-admin.json" <<'EOF'
import json, os, sys
anon, admin = (json.load(open(p)) for p in sys.argv[1:3])
items = anon["items"]
assert len(items) == 20, f"the first page has {len(items)} items, not 20"
assert anon.get("next_cursor"), "the first page has no next_cursor (the catalog should span pages)"
assert all(m["status"] == "ready" for m in items), "an anonymous page lists a movie that is not ready"
assert all(m["genres"] and m["tags"] for m in items), "a movie on the first page lacks genres or tags"
assert [m["id"] for m in admin["items"]] == [m["id"] for m in items], "admin and anonymous first pages differ"
print(json.dumps({
    "items": len(items),
    "bytes": os.path.getsize(sys.argv[1]),
    "with_poster": sum(1 for m in items if m.get("poster_url")),
    "genres_per_item": round(sum(len(m["genres"]) for m in items) / len(items), 2),
    "tags_per_item": round(sum(len(m["tags"]) for m in items) / len(items), 2),
}))
EOF
)" || bench_die "the first page is not what the benchmark expects: $(head -c 400 "$BENCH_TMP/page.json")"
bench_log "first page: $PAGE_FACTS"

# --- nginx, a playback grant and a real segment -----------------------------------------------------
bench_start_nginx "$BACKEND_PORT" "$DATA/media" "$DATA/public"
MOVIE_ID="$(python3 "$HELPERS" pick-movie "$BENCH_URL")" || bench_die "no playable movie"
out="$(curl -sS -w '\n%{http_code}' -H "Authorization: Bearer $VIEWER_TOKEN" "$BENCH_URL/api/v1/movies/$MOVIE_ID/playback")"
[[ "${out##*$'\n'}" == 200 ]] || bench_die "playback grant answered ${out##*$'\n'}: ${out%$'\n'*}"
MASTER_PATH="$(bench_json_field "${out%$'\n'*}" 'd["master_url"]')"
SEGMENT="$(python3 "$HELPERS" pick-segment "$BENCH_NGINX_URL" "$MASTER_PATH")" || bench_die "could not pick a segment"
SEG_PATH="$(bench_json_field "$SEGMENT" 'd["segment_path"]')"
SEG_BYTES="$(bench_json_field "$SEGMENT" 'd["bytes"]')"
bench_log "segment: $SEGMENT (movie $MOVIE_ID)"
for base in "$BENCH_NGINX_URL" "$BENCH_URL"; do
    got="$(curl -fsS -o /dev/null -w '%{http_code} %{size_download} %{content_type}' "$base$SEG_PATH")" ||
        bench_die "GET $base$SEG_PATH failed"
    [[ "$got" == "200 $SEG_BYTES video/mp2t"* ]] || bench_die "GET $base$SEG_PATH answered $got"
done
code="$(curl -sS -o /dev/null -w '%{http_code}' "$BENCH_NGINX_URL$(sed -E 's#^/hls/[^/]+/#/hls/1.2.bogus/#' <<<"$SEG_PATH")")"
[[ "$code" == 403 ]] || bench_die "a segment with a bad grant through nginx answered $code, not 403"

# --- empty route vs first page (anonymous: cached; admin: uncached): warm up, then alternate -------
GET_ARGS=(-t"$THREADS" -c"$CONNS" --latency --timeout 5s)
bench_wait_idle
CPU_BUSY_BEFORE="$BENCH_CPU_BUSY_BEFORE"
bench_log "warm-up: ${WARMUP}s per route"
bench_wrk warmup-healthz 0 "${GET_ARGS[@]}" -d"${WARMUP}s" "$BENCH_URL/healthz"
bench_wrk warmup-movies 0 "${GET_ARGS[@]}" -d"${WARMUP}s" "$BENCH_URL/api/v1/movies"
bench_wrk warmup-admin 0 "${GET_ARGS[@]}" -d"${WARMUP}s" -H "Authorization: Bearer $ADMIN_TOKEN" "$BENCH_URL/api/v1/movies"
for round in $(seq 1 "$ROUNDS"); do
    bench_log "round $round/$ROUNDS: ${DURATION}s per route"
    bench_wrk healthz "$round" "${GET_ARGS[@]}" -d"${DURATION}s" "$BENCH_URL/healthz"
    bench_wrk movies "$round" "${GET_ARGS[@]}" -d"${DURATION}s" "$BENCH_URL/api/v1/movies"
    ADMIN_TOKEN="$(login "$ADMIN")"
    bench_wrk movies-admin "$round" "${GET_ARGS[@]}" -d"${DURATION}s" \
        -H "Authorization: Bearer $ADMIN_TOKEN" "$BENCH_URL/api/v1/movies"
done

# --- fixed rate, open loop, latency corrected for coordinated omission ---------------------------
bench_wait_idle
bench_log "fixed rate: $RATE req/s for ${RATE_DURATION}s per route ($RATE_CONNS connections)"
bench_oha fixed-healthz 1 "$RATE" "$RATE_DURATION" "$RATE_CONNS" "$BENCH_URL/healthz"
bench_oha fixed-movies 1 "$RATE" "$RATE_DURATION" "$RATE_CONNS" "$BENCH_URL/api/v1/movies"
if ((ADMIN_RATE > 0)); then
    ADMIN_TOKEN="$(login "$ADMIN")"
    bench_log "fixed rate, admin (uncached): $ADMIN_RATE req/s for ${RATE_DURATION}s"
    bench_oha fixed-movies-admin 1 "$ADMIN_RATE" "$RATE_DURATION" "$RATE_CONNS" \
        -H "Authorization: Bearer $ADMIN_TOKEN" "$BENCH_URL/api/v1/movies"
fi

# --- segment throughput: nginx vs the backend ---------------------------------------------------
SEG_ARGS=(-t"$THREADS" -c"$SEG_CONNS" --latency --timeout 10s)
bench_wait_idle
bench_log "segments: ${DURATION}s per path, $SEG_CONNS connections, $SEG_BYTES bytes each"
bench_wrk warmup-seg-nginx 0 "${SEG_ARGS[@]}" -d"${WARMUP}s" "$BENCH_NGINX_URL$SEG_PATH"
bench_wrk warmup-seg-backend 0 "${SEG_ARGS[@]}" -d"${WARMUP}s" "$BENCH_URL$SEG_PATH"
for round in $(seq 1 "$ROUNDS"); do
    bench_log "segment round $round/$ROUNDS"
    bench_wrk seg-nginx "$round" "${SEG_ARGS[@]}" -d"${DURATION}s" "$BENCH_NGINX_URL$SEG_PATH"
    bench_wrk seg-backend "$round" "${SEG_ARGS[@]}" -d"${DURATION}s" "$BENCH_URL$SEG_PATH"
done
NGINX_VERSION="$(nginx -v 2>&1 | sed 's/^nginx version: //')"
bench_stop_nginx

# --- ingest speed ---------------------------------------------------------------------------------
INGEST_JSON="null"
if [[ $INGEST == 1 ]]; then
    bench_wait_idle
    bench_log "ingest: synthetic ${INGEST_W}x${INGEST_H} ${INGEST_S}s source ($INGEST_BIN)"
    # CPU use: the ingest (ffmpeg included: `time` counts waited-for children) and the rest.
    stat0="$(bench_cpu_ticks)"
    t0="$(date +%s.%N)"
    rc=0
    TIMEFORMAT='%3U %3S'
    { time { (cd "$BENCH_TMP" && TMPDIR="$BENCH_TMP" timeout 1800 "$INGEST_BIN" "$INGEST_W" "$INGEST_H" "$INGEST_S") \
        >"$BENCH_TMP/ingest.log" 2>&1; }; } 2>"$BENCH_TMP/ingest-time.txt" || rc=$?
    t1="$(date +%s.%N)"
    stat1="$(bench_cpu_ticks)"
    if ((rc != 0)); then
        tail -n 30 "$BENCH_TMP/ingest.log" >&2
        bench_die "ingest_bench failed"
    fi
    sed 's/^/[bench]   /' "$BENCH_TMP/ingest.log" >&2
    INGEST_JSON="$(python3 "$HELPERS" parse-ingest "$BENCH_TMP/ingest.log")" || bench_die "could not read the ingest output"
    INGEST_JSON="$(python3 - "$INGEST_JSON" "$stat0" "$stat1" "$t0" "$t1" "$(tail -n 1 "$BENCH_TMP/ingest-time.txt")" \
        "$(getconf CLK_TCK)" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
(b0, _), (b1, _) = (map(int, a.split()) for a in sys.argv[2:4])
wall = float(sys.argv[5]) - float(sys.argv[4])
user, system = (float(x) for x in sys.argv[6].split()[-2:])
machine = (b1 - b0) / int(sys.argv[7]) / wall
ingest = (user + system) / wall
r["cpu_cores"] = {k: round(v, 3) for k, v in dict(machine=machine, ingest=ingest, other=machine - ingest).items()}
print(json.dumps(r, ensure_ascii=False))
EOF
)"
    bench_log "ingest CPU: $(bench_json_field "$INGEST_JSON" 'd["cpu_cores"]')"
    printf '%s\n' "$INGEST_JSON" >>"$BENCH_TMP/runs.jsonl"
fi

python3 - "$BENCH_TMP/meta.json" "$(cat "$BENCH_TMP/seed.json")" "$PAGE_FACTS" "$SEGMENT" \
    "$(ffmpeg -version 2>/dev/null | head -n 1)" "$(wrk -v 2>&1 | head -n 1)" \
    "$(oha --version 2>&1 | head -n 1)" "$NGINX_VERSION" <<EOF
import json, sys
catalog, first_page, segment = (json.loads(a) for a in sys.argv[2:5])
ffmpeg, wrk, oha, nginx = sys.argv[5:9]
meta = {
    "duration_s": $DURATION,
    "rounds": $ROUNDS,
    "warmup_s": $WARMUP,
    "threads": $THREADS,
    "connections": $CONNS,
    "rate": $RATE,
    "rate_duration_s": $RATE_DURATION,
    "rate_connections": $RATE_CONNS,
    "admin_rate": $ADMIN_RATE,
    "segment_connections": $SEG_CONNS,
    "catalog": catalog,
    "first_page": first_page,
    "segment": segment,
    "segment_movie_id": $MOVIE_ID,
    "ingest": $INGEST,
    "ingest_size": [$INGEST_W, $INGEST_H, $INGEST_S],
    "cpu_busy_before_pct": $CPU_BUSY_BEFORE,
    "server_workers": "default (one per core)",
    "ffmpeg_version": ffmpeg,
    "wrk_version": wrk,
    "oha_version": oha,
    "nginx_version": nginx,
}
json.dump(meta, open(sys.argv[1], "w"), indent=2, ensure_ascii=False)
EOF
bench_summarize catalog
