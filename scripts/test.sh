#!/usr/bin/env bash
# `make test`: formatting, lints and every test, on SQLite, MariaDB, PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_cargo
# The delivery tests run ffmpeg and a real nginx; the browser tests Debian's Chromium.
# fonts-noto-cjk so Chinese renders in the screenshots, fonts-noto-color-emoji so emoji do.
apt_install ffmpeg nginx chromium fonts-noto-cjk fonts-noto-color-emoji
ensure_services
drop_test_databases
trap drop_test_databases EXIT

export TEST_MYSQL_URL="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
# The S3 upload store is tested against moto's local S3 server (PyPI, in a venv outside
# the clone); the test starts it on a free port and stops it.
pip_venv "${LUOJIA_MOTO_VENV:-/var/tmp/luojia-moto}" "moto[server]==5.2.5"
export TEST_S3_SERVER="${TEST_S3_SERVER:-${LUOJIA_MOTO_VENV:-/var/tmp/luojia-moto}/bin/moto_server}"
# A missing database (or S3 server, nginx) fails the suite instead of skipping it.
export LUOJIA_REQUIRE_ALL_BACKENDS=1

log "web app: generated API types, type check, unit tests, build"
frontend_deps
(cd frontend && npm run --silent check:api)
(cd frontend && npm run --silent typecheck)
(cd frontend && npm test --silent)
(cd frontend && npm run --silent build && npm run --silent report:bundle)

log "module graph: no cycles between features"
python3 scripts/module-graph.py --check >/dev/null || { python3 scripts/module-graph.py | grep cycle; exit 1; }

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "backend tests (SQLite, MariaDB, PostgreSQL, Redis)"
if command -v cargo-nextest >/dev/null; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

# The API contract: OpenAPI 3.1 validation and schemathesis against the real server.
bash scripts/contract.sh

log "browser tests (headless Chromium)"
# The binary nextest built for the integration tests.
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)
(cd e2e && LUOJIA_BIN="$CARGO_TARGET_DIR/debug/luojia" npm test)
