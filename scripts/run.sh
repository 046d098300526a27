#!/usr/bin/env bash
# `make run`: the whole site with embedded defaults (SQLite, no Redis) at
# http://localhost:8080. Settings come from APP_* variables (see .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_cargo
# CJK fonts: the demo titles drawn into the frames, and Chinese in a local browser.
apt_install ffmpeg fonts-noto-cjk
frontend_build
log "building the backend (release; the first build takes a few minutes)"
cargo build --release --locked -p luojia
log "demo catalog (made with ffmpeg on the first run, then kept in ./data)"
"$CARGO_TARGET_DIR/release/luojia" seed-demo
export APP_SERVER__HOST="${APP_SERVER__HOST:-0.0.0.0}"
export APP_SERVER__PORT="${APP_SERVER__PORT:-8080}"
log "Luojia Cinema at http://localhost:${APP_SERVER__PORT} (API docs: /docs). Ctrl-C stops it."
exec "$CARGO_TARGET_DIR/release/luojia" serve
