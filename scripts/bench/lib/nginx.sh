# shellcheck shell=bash
# A real nginx in front of the benchmark server, running the repository's nginx.conf as
# rendered by `luojia nginx-conf`. Source it after scripts/lib.sh, and call
# bench_start_nginx after bench_start_server.
#
#   bench_start_nginx BACKEND_PORT MEDIA_DIR PUBLIC_DIR
#       renders the config into $BENCH_TMP/nginx/, checks it with `nginx -t`, starts
#       `nginx -g 'daemon off;'` on a random free loopback port; sets BENCH_NGINX_URL and
#       BENCH_NGINX_PID. The nginx master is stopped (SIGTERM, by PID) when the scenario
#       exits, before the server.
#   bench_stop_nginx             stops it earlier
#
# The template is $BENCH_SOURCE_DIR/nginx.conf (default: the repository's).

BENCH_NGINX_PID=""
BENCH_NGINX_URL=""

bench_require_nginx() {
    command -v nginx >/dev/null 2>&1 && return 0
    bench_log "nginx is missing; installing it with apt-get"
    if ! apt-get install -y nginx >/dev/null 2>&1; then
        apt-get update >/dev/null 2>&1 || true
        apt-get install -y nginx >/dev/null || bench_die "could not install nginx (apt-get install nginx)"
    fi
}

bench_stop_nginx() {
    [[ -n "$BENCH_NGINX_PID" ]] || return 0
    bench_stop_pid "$BENCH_NGINX_PID"
    BENCH_NGINX_PID=""
}

_bench_return() { return "$1"; }

# Replaces the EXIT trap of bench_start_server: nginx first, then bench_cleanup (which
# reads the exit status from $?).
_bench_nginx_cleanup() {
    local rc=$?
    set +e
    bench_stop_nginx
    _bench_return "$rc"
    bench_cleanup
}

bench_start_nginx() {
    local backend_port=$1 media=$2 public=$3
    local dir="$BENCH_TMP/nginx" port template="${BENCH_SOURCE_DIR:-$BENCH_ROOT}/nginx.conf"
    bench_require_nginx
    [[ -f "$template" ]] || bench_die "no nginx.conf at $template"
    mkdir -p "$dir/frontend"
    echo '<!doctype html><title>bench</title>' >"$dir/frontend/index.html"
    port="$(bench_free_port)"
    "$LUOJIA_BIN" nginx-conf --template "$template" --listen "$port" --backend "$backend_port" \
        --frontend "$dir/frontend" --media "$media" --public "$public" \
        --runtime-dir "$dir" --user root >"$dir/nginx.conf" || bench_die "luojia nginx-conf failed"
    nginx -t -q -c "$dir/nginx.conf" || bench_die "nginx -t rejected $dir/nginx.conf"
    trap _bench_nginx_cleanup EXIT
    nginx -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/nginx.out" 2>&1 &
    BENCH_NGINX_PID=$!
    BENCH_NGINX_URL="http://127.0.0.1:$port"
    local deadline=$((SECONDS + 20))
    until curl -fsS -o /dev/null "$BENCH_NGINX_URL/healthz" 2>/dev/null; do
        if ! kill -0 "$BENCH_NGINX_PID" 2>/dev/null; then
            cat "$dir/nginx.out" "$dir/luojia-error.log" >&2 2>/dev/null || true
            bench_die "nginx exited during start-up"
        fi
        ((SECONDS < deadline)) || bench_die "nginx did not answer /healthz within 20 s"
        sleep 0.2
    done
    bench_log "nginx up on $BENCH_NGINX_URL (pid $BENCH_NGINX_PID, $(nginx -v 2>&1 | sed 's/^nginx version: //'))"
}
