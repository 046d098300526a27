# Shared helpers for the scripts behind the Makefile. Source, don't run.

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
