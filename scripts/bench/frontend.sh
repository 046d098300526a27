#!/usr/bin/env bash
# Scenario "frontend": what the web app ships and how its pages score.
#   - JavaScript and CSS per route, gzip (level 9), from the production build's manifest
#     (frontend/scripts/bundle-report.mjs): the landing route `/` (entry + home view) and
#     what each other route adds; whether the player or admin code leaks into the entry.
#   - Lighthouse (npm `lighthouse`, driving Debian's Chromium through CHROME_PATH) of home,
#     browse, a movie page, login, the player and my history (the last two signed in),
#     served by `luojia serve` from frontend/dist with one small ingested movie.
#   - Click "play" on the movie page → first video frame on screen, in Chromium on loopback,
#     signed in, each run a new user and a new browser context (lib/first-frame.mjs).
# Writes docs/bench/frontend.json (rendered by scripts/bench/sections/frontend.py).
#
# Knobs (environment):
#   BENCH_LIGHTHOUSE_DIR=/var/tmp/luojia-lighthouse  where lighthouse is installed (npm) if missing
#   BENCH_LIGHTHOUSE_VERSION=12.8.2                 (13.x needs Node 22)
#   CHROME_PATH=/usr/bin/chromium
#   BENCH_FIRST_FRAME_RUNS=7                        runs of each first-frame variant
#   BENCH_SERVER_BUILD=release                      how LUOJIA_BIN was built, for the report
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

LH_DIR="${BENCH_LIGHTHOUSE_DIR:-/var/tmp/luojia-lighthouse}"
LH_VERSION="${BENCH_LIGHTHOUSE_VERSION:-12.8.2}"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
PASSWORD="benchpassword1"

bench_require_tools
LUOJIA="$(bench_server_bin)"
[[ -x "$CHROME_PATH" ]] || apt_install chromium
apt_install ffmpeg fonts-noto-cjk

(cd "$BENCH_ROOT" && frontend_build)
(cd "$BENCH_ROOT/e2e" && [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error)
if [[ ! -x "$LH_DIR/node_modules/.bin/lighthouse" ]]; then
    bench_log "installing lighthouse@$LH_VERSION into $LH_DIR"
    mkdir -p "$LH_DIR"
    [[ -f "$LH_DIR/package.json" ]] || echo '{"name":"luojia-lighthouse","private":true}' >"$LH_DIR/package.json"
    (cd "$LH_DIR" && npm install --no-audit --no-fund --loglevel=error "lighthouse@$LH_VERSION")
fi

bench_start_server APP_FRONTEND__DIST_DIR="$BENCH_ROOT/frontend/dist"
bench_log "bundle sizes"
node "$BENCH_ROOT/frontend/scripts/bundle-report.mjs" --json >>"$BENCH_TMP/runs.jsonl"

bench_log "one small movie to look at"
ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440 -t 10 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest -y "$BENCH_TMP/src.mp4"
cat >"$BENCH_TMP/meta.toml" <<'TOML'
title = "星际信使"
original_title = "The Star Courier"
year = 2023
synopsis = "一名快递员驾驶旧飞船穿越小行星带，只为准时送达一封信。"
genres = ["sci_fi", "adventure"]
tags = ["太空"]
cast = ["吴桐", "Lena Park"]
TOML
APP_DATA_DIR="$BENCH_TMP/data" APP_LOG__LEVEL=warn "$LUOJIA" ingest "$BENCH_TMP/src.mp4" --meta "$BENCH_TMP/meta.toml" >&2
MOVIE_ID="$(curl -fsS "$BENCH_URL/api/v1/movies" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
AUTH="$(curl -fsS -H 'content-type: application/json' \
    -d "{\"username\":\"lighthouse\",\"email\":\"lh@example.com\",\"password\":\"$PASSWORD\"}" \
    "$BENCH_URL/api/v1/auth/register")"
TOKENS="$(bench_json_field "$AUTH" 'json.dumps(d["tokens"])')"
ACCESS="$(bench_json_field "$AUTH" 'd["tokens"]["access_token"]')"
curl -fsS -X PUT -H "authorization: Bearer $ACCESS" -H 'content-type: application/json' \
    -d '{"position_ms":3000}' "$BENCH_URL/api/v1/me/history/$MOVIE_ID" >/dev/null

bench_wait_idle
bench_log "lighthouse: 6 pages"
node "$BENCH_DIR/lib/lighthouse.mjs" "$BENCH_URL" "$TOKENS" "$MOVIE_ID" "$LH_DIR/node_modules/.bin/lighthouse" \
    >>"$BENCH_TMP/runs.jsonl"

bench_log "click play → first frame: ${BENCH_FIRST_FRAME_RUNS:-7} runs × 2"
node "$BENCH_DIR/lib/first-frame.mjs" "$BENCH_URL" "$MOVIE_ID" "${BENCH_FIRST_FRAME_RUNS:-7}" >>"$BENCH_TMP/runs.jsonl"

cat >"$BENCH_TMP/meta.json" <<EOF2
{
  "node": "$(node --version)",
  "chromium": "$("$CHROME_PATH" --version 2>/dev/null | head -n 1)",
  "lighthouse": "$LH_VERSION",
  "lighthouse_throttling": "default mobile preset (simulated slow 4G, 4x CPU slowdown)",
  "server_build": "${BENCH_SERVER_BUILD:-release}",
  "cpu_busy_before_pct": ${BENCH_CPU_BUSY_BEFORE:-null}
}
EOF2
bench_summarize frontend
