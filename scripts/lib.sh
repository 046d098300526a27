# shellcheck shell=bash
# The one shell library of scripts/: what `make run`, `make test`, `make bench` and the
# benchmark scenarios share. Source, don't run. Sections: messages, packages, ports,
# Rust, the test services, the web app, benchmarks.

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# apt_install PKG...: install missing Debian packages (root only).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || die "please install: ${missing[*]} (sudo apt-get install ${missing[*]})"
  log "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}

# pip_venv DIR PIN...: a Python venv at DIR (outside the clone) holding exactly these pinned
# PyPI packages (name==version, extras allowed), made or topped up when one is missing.
pip_venv() {
  local venv=$1 installed pin
  shift
  installed="$("$venv/bin/python" -m pip freeze 2>/dev/null || true)"
  for pin in "$@"; do
    if ! grep -qxF "${pin/\[*\]/}" <<<"$installed"; then
      log "installing $* into $venv"
      [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
      "$venv/bin/python" -m pip install -q "$@"
      return
    fi
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # PORT SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
  return 1
}

ensure_cargo() {
  command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/luojia-target}"
}

# The test databases and Redis: start whichever has stopped (the commands this machine
# kind uses), install it first on a machine that lacks it.
ensure_services() {
  if ! port_open 5432; then
    log "starting PostgreSQL"
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_port 5432 30 || die "PostgreSQL did not start on 127.0.0.1:5432"
  fi
  if ! port_open 3306; then
    log "starting MariaDB"
    [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_port 3306 30 || die "MariaDB did not start on 127.0.0.1:3306"
  fi
  if ! port_open 6379; then
    log "starting Redis"
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_port 6379 15 || die "Redis did not start on 127.0.0.1:6379"
  fi
  # The databases the tests need may be missing on a hand-made machine.
  mysql -uroot -h127.0.0.1 -e "CREATE DATABASE IF NOT EXISTS test" >/dev/null 2>&1 || true
  psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test" >/dev/null 2>&1 || true
}

# Drop the per-test databases (named luojia_t_*) that earlier runs left behind.
drop_test_databases() {
  local db
  for db in $(mysql -uroot -h127.0.0.1 -N -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'luojia\\_t\\_%'" 2>/dev/null); do
    mysql -uroot -h127.0.0.1 -e "DROP DATABASE \`$db\`" 2>/dev/null || true
  done
  for db in $(psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'luojia\\_t\\_%'" 2>/dev/null); do
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}

# The web app (frontend/): `npm ci` when node_modules is missing or package-lock.json
# changed, `npm run build` when a source changed since the last build (stamp files in
# node_modules, which is per machine and never served).
ensure_node() {
  command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer (https://nodejs.org)"
}

frontend_deps() {
  ensure_node
  local want have=""
  want=$(sha256sum frontend/package-lock.json | cut -d' ' -f1)
  [ -f frontend/node_modules/.luojia-lock ] && have=$(cat frontend/node_modules/.luojia-lock)
  if [ ! -d frontend/node_modules ] || [ "$want" != "$have" ]; then
    log "installing the web app's packages (npm ci)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > frontend/node_modules/.luojia-lock
  fi
}

# A hash over every file the build reads.
frontend_sources_hash() {
  (cd frontend && find src public index.html vite.config.ts tsconfig*.json package-lock.json -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

frontend_build() {
  frontend_deps
  local want have=""
  want=$(frontend_sources_hash)
  [ -f frontend/node_modules/.luojia-build ] && have=$(cat frontend/node_modules/.luojia-build)
  if [ ! -f frontend/dist/index.html ] || [ "$want" != "$have" ]; then
    log "building the web app (npm run build)"
    (cd frontend && npm run build --silent)
    echo "$want" > frontend/node_modules/.luojia-build
  fi
}

# --- Benchmarks: scripts/bench.sh and the scenarios in scripts/bench/*.sh ---------------
# They expect `set -euo pipefail` in the caller. What they give a scenario:
#   bench_require_tools        wrk, curl and python3 present (installs wrk with apt-get if missing)
#   bench_server_bin           prints the luojia release binary, building it if needed
#   bench_start_server [K=V..] starts `luojia serve` on a random free loopback port with a
#                              fresh data dir; sets BENCH_URL, BENCH_SERVER_PID, BENCH_TMP;
#                              stops it again (by PID) when the scenario exits
#   bench_wrk LABEL ROUND ARGS  runs wrk with the JSON reporter and appends one record to
#                              $BENCH_TMP/runs.jsonl (see lib/wrk_json.lua)
#   bench_summarize NAME       hands runs.jsonl + meta.json to report.py, which writes
#                              docs/bench/NAME.json
#   bench_start_instance NAME [K=V..]  one more `luojia serve` (after bench_start_server), for
#                              scenarios that run several instances; sets BENCH_INSTANCE_URL
#                              and BENCH_INSTANCE_PID; any still running are stopped (by
#                              PID) when the scenario exits
#   bench_stop_pid PID         SIGTERM, up to 5 s, then SIGKILL (one process, by PID)
#   bench_track_pid PID        a process started by the scenario itself, stopped (by PID)
#                              with the others when the scenario exits
#   bench_mariadb_create       creates a per-run MariaDB database luojia_bench_<random>
#                              (BENCH_MYSQL_HOST/PORT/USER, default 127.0.0.1:3306 root, no
#                              password); sets BENCH_MARIADB_URL, BENCH_MARIADB_VERSION; the
#                              database is dropped by bench_mariadb_drop or at exit

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="$BENCH_ROOT/scripts/bench"
BENCH_OUT_DIR="${BENCH_OUT_DIR:-$BENCH_ROOT/docs/bench}"
BENCH_TMP=""
BENCH_SERVER_PID=""
BENCH_URL=""
BENCH_LAUNCHED_PIDS=()
BENCH_MARIADB_DB=""

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "ERROR: $*"; exit 1; }

bench_require_tools() {
    command -v wrk >/dev/null 2>&1 || apt_install wrk
    command -v curl >/dev/null 2>&1 || bench_die "curl is required"
    command -v python3 >/dev/null 2>&1 || bench_die "python3 is required"
}

# bench_target_dir DIR: the cargo target directory of the checkout at DIR (honours
# CARGO_TARGET_DIR and .cargo/config.toml: cargo metadata resolves both).
bench_target_dir() {
    (cd "$1" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') ||
        bench_die "cargo metadata failed in $1"
}

# bench_release_bin OVERRIDE_VAR PACKAGE BINARY: the binary named by $OVERRIDE_VAR if set,
# else <cargo target dir>/release/BINARY, which is built (cargo build --release -p PACKAGE)
# unless BENCH_SKIP_BUILD=1. The target dir honours CARGO_TARGET_DIR and
# .cargo/config.toml (cargo metadata resolves both).
bench_release_bin() {
    local var=$1 package=$2 name=$3 target
    if [[ -n "${!var:-}" ]]; then
        [[ -x "${!var}" ]] || bench_die "$var=${!var} is not executable"
        echo "${!var}"
        return
    fi
    target="$(bench_target_dir "$BENCH_ROOT")"
    if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
        bench_log "building $name (cargo build --release -p $package)"
        (cd "$BENCH_ROOT" && cargo build --release -p "$package" >&2) || bench_die "building $name failed"
    fi
    [[ -x "$target/release/$name" ]] || bench_die "no binary at $target/release/$name"
    echo "$target/release/$name"
}

# The release server: $LUOJIA_BIN, or built (see bench_release_bin).
bench_server_bin() {
    bench_release_bin LUOJIA_BIN luojia luojia
}

# "busy total" jiffies of the whole machine, from /proc/stat.
bench_cpu_ticks() {
    awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t; exit}' /proc/stat
}

# utime+stime jiffies of one process (0 once it is gone).
bench_proc_ticks() {
    local f
    f="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    f="${f##*) }" # fields after "pid (comm) "
    awk '{print $12 + $13}' <<<"$f"
}

# Percent of the machine's CPU busy over SECONDS (default 3).
bench_cpu_busy() {
    local a b
    a="$(bench_cpu_ticks)"
    sleep "${1:-3}"
    b="$(bench_cpu_ticks)"
    awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); d=y[2]-x[2]; printf "%.0f\n", (d > 0 ? 100*(y[1]-x[1])/d : 0)}'
}

# Wait (at most BENCH_IDLE_WAIT seconds, default 300) until the machine is below
# BENCH_IDLE_MAX percent busy (default 15), so a concurrent build does not skew the numbers.
# Sets BENCH_CPU_BUSY_BEFORE to the last measurement.
bench_wait_idle() {
    local max="${BENCH_IDLE_MAX:-15}" deadline=$((SECONDS + ${BENCH_IDLE_WAIT:-300}))
    while :; do
        BENCH_CPU_BUSY_BEFORE="$(bench_cpu_busy 3)"
        ((BENCH_CPU_BUSY_BEFORE <= max)) && return 0
        if ((SECONDS >= deadline)); then
            bench_log "WARNING: the machine is still ${BENCH_CPU_BUSY_BEFORE}% busy; measuring anyway"
            return 0
        fi
        bench_log "the machine is ${BENCH_CPU_BUSY_BEFORE}% busy (other work); waiting for it to settle"
        sleep 5
    done
}

bench_free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

bench_cleanup() {
    local rc=$?
    local pid
    for pid in "${BENCH_LAUNCHED_PIDS[@]}"; do
        bench_stop_pid "$pid"
    done
    bench_mariadb_drop || true
    if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" ]]; then
        if [[ $rc -ne 0 || "${BENCH_KEEP_TMP:-0}" == 1 ]]; then
            bench_log "kept $BENCH_TMP (server log: $BENCH_TMP/server.log)"
        else
            rm -rf "$BENCH_TMP"
        fi
    fi
    return $rc
}

# bench_launch WHAT DATA_DIR LOG [EXTRA_ENV=VALUE ...]: starts `luojia serve` on loopback,
# a random free port, warn logs and lifted rate limits, waits (up to 60 s) for /healthz;
# sets BENCH_LAUNCHED_URL and BENCH_LAUNCHED_PID. WHAT names it in messages. Every PID
# started this way is stopped by bench_cleanup (the EXIT trap), start-up failures included.
bench_launch() {
    local what=$1 data=$2 log=$3 bin port
    shift 3
    bin="$(bench_server_bin)"
    mkdir -p "$data"
    port="$(bench_free_port)"
    BENCH_LAUNCHED_URL="http://127.0.0.1:$port"
    bench_log "starting $what ($bin) on $BENCH_LAUNCHED_URL (data dir $data)"
    env APP_SERVER__HOST=127.0.0.1 \
        APP_SERVER__PORT="$port" \
        APP_DATA_DIR="$data" \
        APP_LOG__LEVEL=warn \
        APP_RATE_LIMIT__LOGIN_PER_IP=100000000 \
        APP_RATE_LIMIT__LOGIN_PER_ACCOUNT=100000000 \
        APP_RATE_LIMIT__REGISTER_PER_IP=100000000 \
        "$@" \
        "$bin" serve >"$log" 2>&1 &
    BENCH_LAUNCHED_PID=$!
    BENCH_LAUNCHED_PIDS+=("$BENCH_LAUNCHED_PID")
    local deadline=$((SECONDS + 60))
    until curl -fsS -o /dev/null "$BENCH_LAUNCHED_URL/healthz" 2>/dev/null; do
        if ! kill -0 "$BENCH_LAUNCHED_PID" 2>/dev/null; then
            tail -n 30 "$log" >&2 || true
            bench_die "$what exited during start-up"
        fi
        ((SECONDS < deadline)) || bench_die "$what did not answer /healthz within 60 s"
        sleep 0.2
    done
    bench_log "$what up (pid $BENCH_LAUNCHED_PID)"
}

# bench_start_server [EXTRA_ENV=VALUE ...]
bench_start_server() {
    BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/luojia-bench.XXXXXX")"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    : >"$BENCH_TMP/runs.jsonl"
    bench_launch "the server" "$BENCH_TMP/data" "$BENCH_TMP/server.log" "$@"
    BENCH_SERVER_PID="$BENCH_LAUNCHED_PID"
    BENCH_URL="$BENCH_LAUNCHED_URL"
}

# bench_wrk LABEL ROUND [wrk args... URL]
# Extra environment for the Lua reporter: BENCH_METHOD, BENCH_BODY, BENCH_CONTENT_TYPE,
# BENCH_COUNT_STATUS=1 (count responses per status code; slower, use for slow routes only),
# BENCH_WRK_SCRIPT (another wrk script, which must load lib/wrk_json.lua for the summary line).
bench_wrk() {
    local label=$1 round=$2
    shift 2
    local out rc=0 stat0 stat1 srv0 srv1 t0 t1
    local TIMEFORMAT='%3U %3S'
    stat0="$(bench_cpu_ticks)"
    srv0="$(bench_proc_ticks "$BENCH_SERVER_PID")"
    t0="$(date +%s.%N)"
    { time out="$(BENCH_LABEL="$label" BENCH_ROUND="$round" \
        wrk -s "${BENCH_WRK_SCRIPT:-$BENCH_DIR/lib/wrk_json.lua}" "$@" 2>&1)" || rc=$?; } 2>"$BENCH_TMP/wrk-time.txt"
    t1="$(date +%s.%N)"
    srv1="$(bench_proc_ticks "$BENCH_SERVER_PID")"
    stat1="$(bench_cpu_ticks)"
    if ((rc != 0)); then
        printf '%s\n' "$out" >&2
        bench_die "wrk failed for $label"
    fi
    printf '%s\n' "$out" >>"$BENCH_TMP/wrk.log"
    local json
    json="$(printf '%s\n' "$out" | sed -n 's/^WRK_JSON //p' | tail -n 1)"
    [[ -n "$json" ]] || {
        printf '%s\n' "$out" >&2
        bench_die "no JSON from wrk for $label"
    }
    # CPU use during the run, in cores: the whole machine, the server, wrk, and the rest
    # ("other" > ~0.1 core means something else was competing for the CPU).
    json="$(python3 - "$json" "$stat0" "$stat1" "$srv0" "$srv1" "$t0" "$t1" \
        "$(cat "$BENCH_TMP/wrk-time.txt")" "$(getconf CLK_TCK)" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
(b0, _), (b1, _) = (map(int, a.split()) for a in sys.argv[2:4])
srv0, srv1 = int(sys.argv[4]), int(sys.argv[5])
wall = float(sys.argv[7]) - float(sys.argv[6])
wrk_user, wrk_sys = (float(x) for x in sys.argv[8].split()[-2:])
hz = int(sys.argv[9])
machine = (b1 - b0) / hz / wall
server = (srv1 - srv0) / hz / wall
wrk = (wrk_user + wrk_sys) / wall
r["cpu_cores"] = {k: round(v, 3) for k, v in
                  dict(machine=machine, server=server, wrk=wrk, other=machine - server - wrk).items()}
print(json.dumps(r))
EOF
)"
    printf '%s\n' "$json" >>"$BENCH_TMP/runs.jsonl"
    python3 - "$json" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
print(f"[bench]   {r['label']:<10} round {r['round']}: {r['rps']:10.1f} req/s  "
      f"p50 {r['latency_us']['p50']/1000:7.2f} ms  p99 {r['latency_us']['p99']/1000:7.2f} ms  "
      f"non-2xx/3xx {r['errors']['status']}  socket errors "
      f"{r['errors']['connect'] + r['errors']['read'] + r['errors']['write'] + r['errors']['timeout']}  "
      f"cpu: server {r['cpu_cores']['server']:.2f} wrk {r['cpu_cores']['wrk']:.2f} "
      f"other {r['cpu_cores']['other']:.2f} cores")
EOF
}

# bench_json_field JSON PYTHON_EXPR   e.g. bench_json_field "$body" 'd["tokens"]["access_token"]'
bench_json_field() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# bench_summarize NAME  (meta.json in $BENCH_TMP holds the scenario's settings)
bench_summarize() {
    local name=$1
    mkdir -p "$BENCH_OUT_DIR"
    python3 "$BENCH_DIR/report.py" summarize "$name" \
        --runs "$BENCH_TMP/runs.jsonl" \
        --meta "$BENCH_TMP/meta.json" \
        --out "$BENCH_OUT_DIR/$name.json"
    bench_log "wrote ${BENCH_OUT_DIR#"$BENCH_ROOT"/}/$name.json"
}

# --- several instances -----------------------------------------------------------------

BENCH_INSTANCE_URL=""
BENCH_INSTANCE_PID=""

# bench_stop_pid PID: SIGTERM, up to 5 s to finish, then SIGKILL. The PID leaves
# BENCH_LAUNCHED_PIDS, so the EXIT trap never signals a number the system reused.
bench_stop_pid() {
    local pid=$1 p kept=()
    for p in "${BENCH_LAUNCHED_PIDS[@]}"; do
        [[ $p == "$pid" ]] || kept+=("$p")
    done
    BENCH_LAUNCHED_PIDS=("${kept[@]}")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# bench_start_instance NAME [EXTRA_ENV=VALUE ...]: like bench_start_server (same settings:
# loopback, random free port, warn logs, lifted rate limits) with data dir $BENCH_TMP/NAME
# and log $BENCH_TMP/NAME.log. Instances that share a database or a JWT secret get them
# through EXTRA_ENV (APP_DATABASE__URL, APP_AUTH__JWT_SECRET, APP_REDIS__URL, …).
bench_start_instance() {
    local name=$1
    shift
    [[ -n "$BENCH_TMP" ]] || bench_die "bench_start_instance needs bench_start_server first"
    bench_launch "instance $name" "$BENCH_TMP/$name" "$BENCH_TMP/$name.log" "$@"
    BENCH_INSTANCE_URL="$BENCH_LAUNCHED_URL"
    BENCH_INSTANCE_PID="$BENCH_LAUNCHED_PID"
}

# bench_track_pid PID: stop this process (by PID) when the scenario exits.
bench_track_pid() {
    BENCH_LAUNCHED_PIDS+=("$1")
}

# --- Redis ---------------------------------------------------------------------------

# redis_do COMMAND [ARG..]: one Redis command at $REDIS_URL (default redis://127.0.0.1:6379), reply on stdout (an array one
# element a line); `redis_do purge PREFIX` deletes the keys under PREFIX and prints how many.
# Plain RESP over a socket, so that redis-cli is not needed.
redis_do() {
    python3 - "${REDIS_URL:-redis://127.0.0.1:6379}" "$@" <<'PY'
import socket, sys
from urllib.parse import urlparse

u = urlparse(sys.argv[1])
sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=5)
f = sock.makefile("rb")

def read():
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"-":
        raise SystemExit(f"redis: {rest}")
    if kind in (b"+", b":"):
        return rest
    if kind == b"$":
        return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2].decode()
    if kind == b"*":
        return None if int(rest) < 0 else [read() for _ in range(int(rest))]
    raise SystemExit(f"redis: unexpected reply {line!r}")

def call(*args):
    sock.sendall(f"*{len(args)}\r\n".encode()
                 + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args))
    return read()

if u.password:
    call(*(["AUTH", u.username, u.password] if u.username else ["AUTH", u.password]))
if u.path.strip("/"):
    call("SELECT", u.path.strip("/"))
args = sys.argv[2:]
if args[0] == "purge":
    cursor, n = "0", 0
    while True:
        cursor, keys = call("SCAN", cursor, "MATCH", args[1] + "*", "COUNT", "1000")
        if keys:
            n += int(call("DEL", *keys))
        if cursor == "0":
            break
    print(n)
else:
    r = call(*args)
    print("\n".join(r) if isinstance(r, list) else r)
PY
}

# --- MariaDB ---------------------------------------------------------------------------

BENCH_MYSQL_HOST="${BENCH_MYSQL_HOST:-127.0.0.1}"
BENCH_MYSQL_PORT="${BENCH_MYSQL_PORT:-3306}"
BENCH_MYSQL_USER="${BENCH_MYSQL_USER:-root}"

bench_mysql() {
    mysql -h"$BENCH_MYSQL_HOST" -P"$BENCH_MYSQL_PORT" -u"$BENCH_MYSQL_USER" --batch --skip-column-names "$@"
}

bench_mariadb_create() {
    command -v mysql >/dev/null 2>&1 || bench_die "the mysql client is required for MariaDB"
    BENCH_MARIADB_VERSION="$(bench_mysql -e 'SELECT VERSION()')" ||
        bench_die "MariaDB at $BENCH_MYSQL_HOST:$BENCH_MYSQL_PORT does not answer"
    BENCH_MARIADB_DB="luojia_bench_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
    bench_mysql -e "CREATE DATABASE \`$BENCH_MARIADB_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    BENCH_MARIADB_URL="mysql://$BENCH_MYSQL_USER@$BENCH_MYSQL_HOST:$BENCH_MYSQL_PORT/$BENCH_MARIADB_DB"
    bench_log "created MariaDB database $BENCH_MARIADB_DB ($BENCH_MARIADB_VERSION)"
}

bench_mariadb_drop() {
    [[ -n "$BENCH_MARIADB_DB" ]] || return 0
    bench_mysql -e "DROP DATABASE IF EXISTS \`$BENCH_MARIADB_DB\`" && bench_log "dropped MariaDB database $BENCH_MARIADB_DB"
    BENCH_MARIADB_DB=""
}
