#!/usr/bin/env bash
# Scenario "history": watch-history progress reports (PUT /api/v1/me/history/{movie_id})
# sustained per second with the write coalescer, on embedded SQLite and on MariaDB, and the
# database writes that costs (rows written and SQL statements per second, from the server's
# GET /internal/stats counters). Writes docs/bench/history.json (rendered by
# scripts/bench/sections/history.py).
#
# For each database: a fresh server (APP_AUTH__BCRYPT_COST=4 and lifted register/login rate
# limits, so that the players register quickly: not production settings), BENCH_HIST_USERS
# registered players, BENCH_HIST_MOVIES movies created by an admin (registered, promoted with
# `luojia user create-admin`, logged in again) and set to status 'ready' directly in the
# database (no media is ingested). Player i watches movie i mod MOVIES; wrk walks the players
# round-robin, each report 5 s further into the movie, so every (user, movie) key is reported
# again and again as by a real player. A warm-up run, a wait for the flush that drains it,
# then the measured run; the counters are read before it, at its end and after the next flush
# (which writes the run's last reports).
#
# Knobs (environment):
#   BENCH_HIST_DBS="sqlite mariadb"  databases to measure
#   BENCH_HIST_USERS=1000     players (distinct (user, movie) keys)
#   BENCH_HIST_MOVIES=50      movies
#   BENCH_HIST_DURATION=20    seconds of the measured run
#   BENCH_HIST_WARMUP=5       seconds of warm-up
#   BENCH_THREADS=2           wrk threads
#   BENCH_HIST_CONNECTIONS=64 wrk connections
#   BENCH_MYSQL_HOST=127.0.0.1 BENCH_MYSQL_PORT=3306 BENCH_MYSQL_USER=root (no password):
#                             a database luojia_bench_<random> is created there and dropped
#   APP_HISTORY__FLUSH_INTERVAL_MS  the server's flush interval (server default 5000)
#   BENCH_IDLE_MAX=15, BENCH_IDLE_WAIT=300  see scripts/lib.sh
set -euo pipefail
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DBS="${BENCH_HIST_DBS:-sqlite mariadb}"
USERS="${BENCH_HIST_USERS:-1000}"
MOVIES="${BENCH_HIST_MOVIES:-50}"
DURATION="${BENCH_HIST_DURATION:-20}"
WARMUP="${BENCH_HIST_WARMUP:-5}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_HIST_CONNECTIONS:-64}"
MYSQL_HOST="${BENCH_MYSQL_HOST:-127.0.0.1}"
MYSQL_PORT="${BENCH_MYSQL_PORT:-3306}"
MYSQL_USER="${BENCH_MYSQL_USER:-root}"
FLUSH_MS="${APP_HISTORY__FLUSH_INTERVAL_MS:-5000}"
export APP_HISTORY__FLUSH_INTERVAL_MS="$FLUSH_MS"
BCRYPT_COST=4
HELPERS="$BENCH_DIR/lib/history_helpers.py"
PASSWORD="benchpassword1"
ADMIN="histadmin"
# seconds to wait for a flush: two intervals plus a margin (a flush may run late on a busy machine)
FLUSH_WAIT="$(awk -v ms="$FLUSH_MS" 'BEGIN{print 2 * ms/1000 + 5}')"

bench_require_tools
LUOJIA="$(bench_server_bin)"

HIST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/luojia-bench-history.XXXXXX")"
: >"$HIST_TMP/runs.jsonl"
: >"$HIST_TMP/stats.jsonl"
HIST_DB=""

mysql_cmd() { mysql -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" --batch --skip-column-names "$@"; }

hist_cleanup() {
    local rc=$?
    set +e
    (exit "$rc")
    bench_cleanup # stops the current server (by PID), removes (or keeps) its temp dir
    if [[ -n "$HIST_DB" ]]; then
        mysql_cmd -e "DROP DATABASE IF EXISTS \`$HIST_DB\`" && bench_log "dropped MariaDB database $HIST_DB"
    fi
    if [[ -d "$HIST_TMP" && "$BENCH_TMP" != "$HIST_TMP" ]]; then
        if [[ $rc -ne 0 || "${BENCH_KEEP_TMP:-0}" == 1 ]]; then
            bench_log "kept $HIST_TMP"
        else
            rm -rf "$HIST_TMP"
        fi
    fi
    return "$rc"
}
trap hist_cleanup EXIT
trap 'exit 130' INT TERM

# Stop this database's server (by PID) and keep its wrk records.
hist_stop_server() {
    local db=$1
    [[ -z "$BENCH_SERVER_PID" ]] || bench_stop_pid "$BENCH_SERVER_PID"
    BENCH_SERVER_PID=""
    cat "$BENCH_TMP/runs.jsonl" >>"$HIST_TMP/runs.jsonl"
    cp "$BENCH_TMP/server.log" "$HIST_TMP/server-$db.log" 2>/dev/null || true
    if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then
        bench_log "kept $BENCH_TMP"
    else
        rm -rf "$BENCH_TMP"
    fi
    BENCH_TMP=""
}

run_db() {
    local db=$1 extra=() cli_env=() db_version
    case "$db" in
    sqlite)
        db_version="embedded SQLite (sqlx), file in the data dir"
        ;;
    mariadb)
        command -v mysql >/dev/null 2>&1 || bench_die "the mysql client is required for MariaDB"
        db_version="$(mysql_cmd -e 'SELECT VERSION()')" || bench_die "MariaDB at $MYSQL_HOST:$MYSQL_PORT does not answer"
        HIST_DB="luojia_bench_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
        mysql_cmd -e "CREATE DATABASE \`$HIST_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        bench_log "created MariaDB database $HIST_DB ($db_version)"
        extra=(APP_DATABASE__URL="mysql://$MYSQL_USER@$MYSQL_HOST:$MYSQL_PORT/$HIST_DB")
        ;;
    *) bench_die "unknown database '$db' (sqlite or mariadb)" ;;
    esac

    bench_start_server APP_AUTH__BCRYPT_COST="$BCRYPT_COST" "${extra[@]}"
    trap hist_cleanup EXIT # bench_start_server set its own
    cli_env=(APP_DATA_DIR="$BENCH_TMP/data" APP_LOG__LEVEL=warn APP_AUTH__BCRYPT_COST="$BCRYPT_COST" "${extra[@]}")

    # --- admin, movies (set ready in the database), players --------------------------------
    local body code token
    body="{\"username\":\"$ADMIN\",\"email\":\"$ADMIN@example.com\",\"password\":\"$PASSWORD\"}"
    code="$(curl -sS -o "$BENCH_TMP/admin.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$body" "$BENCH_URL/api/v1/auth/register")"
    [[ "$code" == 201 ]] || bench_die "register answered $code: $(cat "$BENCH_TMP/admin.json")"
    env "${cli_env[@]}" "$LUOJIA" user create-admin --username "$ADMIN" --email "$ADMIN@example.com" >&2 ||
        bench_die "luojia user create-admin failed"
    body="{\"login\":\"$ADMIN\",\"password\":\"$PASSWORD\"}"
    code="$(curl -sS -o "$BENCH_TMP/admin.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$body" "$BENCH_URL/api/v1/auth/login")"
    [[ "$code" == 200 ]] || bench_die "admin login answered $code: $(cat "$BENCH_TMP/admin.json")"
    token="$(bench_json_field "$(cat "$BENCH_TMP/admin.json")" 'd["tokens"]["access_token"]')"
    python3 "$HELPERS" movies "$BENCH_URL" "$token" "$MOVIES" "$BENCH_TMP/movies.txt"
    # No media is ingested: the movies are made playable directly in the database.
    if [[ "$db" == sqlite ]]; then
        python3 "$HELPERS" ready-sqlite "$BENCH_TMP/data/luojia.db" "$BENCH_TMP/movies.txt"
    else
        mysql_cmd "$HIST_DB" -e "UPDATE movies SET status='ready' WHERE id IN ($(paste -sd, "$BENCH_TMP/movies.txt"))"
        [[ "$(mysql_cmd "$HIST_DB" -e "SELECT COUNT(*) FROM movies WHERE status='ready'")" == "$MOVIES" ]] ||
            bench_die "could not set the movies ready"
    fi
    bench_log "$MOVIES movies ready; registering $USERS players"
    python3 "$HELPERS" register "$BENCH_URL" "$USERS" "hp" "$PASSWORD" "$BENCH_TMP/tokens.txt"
    python3 "$HELPERS" check "$BENCH_URL" "$BENCH_TMP/tokens.txt" "$BENCH_TMP/movies.txt"
    python3 "$HELPERS" lua "$BENCH_TMP/tokens.txt" "$BENCH_TMP/movies.txt" \
        "$BENCH_DIR/lib/wrk_json.lua" "$BENCH_TMP/players.lua"

    # --- warm-up, drain, measure, drain ----------------------------------------------------
    local args=(-t"$THREADS" -c"$CONNS" --latency --timeout 5s)
    local before at_end after rows
    bench_wait_idle
    local busy="$BENCH_CPU_BUSY_BEFORE"
    bench_log "$db: warm-up ${WARMUP}s"
    BENCH_WRK_SCRIPT="$BENCH_TMP/players.lua" BENCH_THREADS="$THREADS" \
        bench_wrk "warmup-$db" 0 "${args[@]}" -d"${WARMUP}s" "$BENCH_URL"
    rows="$(bench_json_field "$(python3 "$HELPERS" stats "$BENCH_URL")" 'd["rows_written"]')"
    before="$(python3 "$HELPERS" wait-flush "$BENCH_URL" "$rows" "$FLUSH_WAIT")" # warm-up written
    bench_log "$db: measured run ${DURATION}s (wrk -t$THREADS -c$CONNS, $USERS players)"
    BENCH_WRK_SCRIPT="$BENCH_TMP/players.lua" BENCH_THREADS="$THREADS" \
        bench_wrk "$db" 1 "${args[@]}" -d"${DURATION}s" "$BENCH_URL"
    at_end="$(python3 "$HELPERS" stats "$BENCH_URL")"
    rows="$(bench_json_field "$at_end" 'd["rows_written"]')"
    after="$(python3 "$HELPERS" wait-flush "$BENCH_URL" "$rows" "$FLUSH_WAIT")" # the run's tail written
    local history_rows
    if [[ "$db" == sqlite ]]; then
        history_rows="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM watch_history").fetchone()[0])' "$BENCH_TMP/data/luojia.db")"
    else
        history_rows="$(mysql_cmd "$HIST_DB" -e 'SELECT COUNT(*) FROM watch_history')"
    fi
    printf '{"db":"%s","db_version":"%s","cpu_busy_before_pct":%s,"history_rows":%s,"before":%s,"at_end":%s,"after":%s}\n' \
        "$db" "$(printf '%s' "$db_version" | sed 's/"/\\"/g')" "$busy" "$history_rows" "$before" "$at_end" "$after" \
        >>"$HIST_TMP/stats.jsonl"
    python3 - "$(tail -n 1 "$HIST_TMP/stats.jsonl")" <<'EOF' >&2
import json, sys
s = json.loads(sys.argv[1])
b, e, a = s["before"], s["at_end"], s["after"]
print(f"[bench]   {s['db']}: reports {a['reports'] - b['reports']:,}, rows written {a['rows_written'] - b['rows_written']:,} "
      f"({e['rows_written'] - b['rows_written']:,} during the run), statements {a['statements'] - b['statements']:,}; "
      f"final flush waited for: {'TIMED OUT' if a['timed_out'] else 'ok'}")
EOF

    hist_stop_server "$db"
    if [[ "$db" == mariadb && -n "$HIST_DB" ]]; then
        mysql_cmd -e "DROP DATABASE IF EXISTS \`$HIST_DB\`" && bench_log "dropped MariaDB database $HIST_DB"
        HIST_DB=""
    fi
}

for db in $DBS; do
    bench_log "=== history on $db ==="
    run_db "$db"
done

BENCH_TMP="$HIST_TMP"
python3 - "$HIST_TMP/stats.jsonl" >"$HIST_TMP/meta.json" <<EOF
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({
    "databases": [s["db"] for s in stats],
    "history_stats": {s["db"]: s for s in stats},
    "flush_interval_ms": $FLUSH_MS,
    "users": $USERS,
    "movies": $MOVIES,
    "duration_s": $DURATION,
    "warmup_s": $WARMUP,
    "threads": $THREADS,
    "connections": $CONNS,
    "bcrypt_cost": $BCRYPT_COST,
    "position_step_ms": 5000,
    "cpu_busy_before_pct": max((s["cpu_busy_before_pct"] for s in stats), default=None),
    "server_workers": "default (one per core)",
    "wrk_version": """$(wrk -v 2>&1 | head -n 1 | sed 's/"/\\"/g')""",
}, indent=2))
EOF
bench_summarize history
