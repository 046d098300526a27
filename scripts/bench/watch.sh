#!/usr/bin/env bash
# Scenario "watch": watch together in real browsers (issue 13). Headless Chromium pages in one
# room through the production topology: nginx (the repository's nginx.conf, rendered by
# `luojia nginx-conf`) in front of two `luojia serve` instances sharing one data dir (SQLite in
# WAL mode) and one Redis (a fresh key prefix per run, deleted afterwards). The pages run the
# built web app; positions are the frames on screen (requestVideoFrameCallback mediaTime) at
# the wall-clock instant they are shown, against the room's timeline at that instant.
#   steady playback: 2 pages, 5 pages, 5 with one under 4x CPU throttling, 5 with one behind a
#   75 ms (each way) TCP delay proxy: timeline error per page and drift between pages;
#   host seeks, with 2 pages and with 5: click → every page within 100 ms of the others for 1 s;
#   reconnect: a page offline 5 s while the host seeks; time to land and its error after.
# All in scripts/bench/lib/watch-sync.mjs (with e2e/lib.mjs's startCluster). Writes
# docs/bench/watch.json (rendered by scripts/bench/sections/watch.py).
#
# Knobs (environment):
#   BENCH_WATCH_MEASURE_S=60     seconds of steady playback per window (3 s after the last command excluded)
#   BENCH_WATCH_SEEKS=8          host seeks (with 2 pages, and again with 5)
#   BENCH_WATCH_RECONNECTS=3     offline/online rounds
#   TEST_REDIS_URL=redis://127.0.0.1:6379
#   CHROME_PATH=/usr/bin/chromium
#   BENCH_SERVER_BUILD=release   how LUOJIA_BIN was built, for the report (debug: say so)
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
MEASURE_S="${BENCH_WATCH_MEASURE_S:-60}"
SEEKS="${BENCH_WATCH_SEEKS:-8}"
RECONNECTS="${BENCH_WATCH_RECONNECTS:-3}"

LUOJIA_BIN="$(bench_server_bin)"
export LUOJIA_BIN
[[ -x "$CHROME_PATH" ]] || apt_install chromium
apt_install ffmpeg nginx redis-tools fonts-noto-cjk
(cd "$BENCH_ROOT" && frontend_build)
(cd "$BENCH_ROOT/e2e" && [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error)

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/luojia-bench.XXXXXX")"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
: >"$BENCH_TMP/runs.jsonl"

bench_wait_idle
bench_log "watch together: ${MEASURE_S}s windows, $SEEKS seeks, $RECONNECTS reconnects"
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
# The machine's speed varies from day to day (it is shared): a fixed single-threaded loop,
# median of three, so that runs on different days can be compared.
CALIBRATION_MS="$(for _ in 1 2 3; do
  node -e 'const t = performance.now(); let s = 0; for (let i = 0; i < 3e8; i++) s += i % 7; process.stdout.write(`${Math.round(performance.now() - t)} ${s % 2}\n`)' | cut -d' ' -f1
done | sort -n | sed -n 2p)"
node "$BENCH_DIR/lib/watch-sync.mjs" "$MEASURE_S" "$SEEKS" "$RECONNECTS" >>"$BENCH_TMP/runs.jsonl"
LOAD_AFTER="$(cut -d' ' -f1 /proc/loadavg)"

cat >"$BENCH_TMP/meta.json" <<EOF2
{
  "node": "$(node --version)",
  "chromium": "$("$CHROME_PATH" --version 2>/dev/null | head -n 1)",
  "nginx": "$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //')",
  "redis": "$(redis-cli -u "${TEST_REDIS_URL:-redis://127.0.0.1:6379}" INFO server 2>/dev/null | sed -n 's/^redis_version:\([^[:space:]]*\).*/\1/p')",
  "server_build": "${BENCH_SERVER_BUILD:-release}",
  "measure_s": $MEASURE_S,
  "seeks": $SEEKS,
  "reconnects": $RECONNECTS,
  "cpu_busy_before_pct": ${BENCH_CPU_BUSY_BEFORE:-null},
  "calibration_ms": ${CALIBRATION_MS:-null},
  "load_before": $LOAD_BEFORE,
  "load_after": $LOAD_AFTER
}
EOF2
bench_summarize watch
