#!/usr/bin/env bash
# Benchmarks (`make bench`): runs the scenarios in scripts/bench/*.sh, each of which
# writes docs/bench/<name>.json, then regenerates docs/benchmarks.md and the plots.
#
#   bash scripts/bench.sh              every scenario
#   bash scripts/bench.sh accounts     only these (other sections keep their JSON)
#   bash scripts/bench.sh --list       list the scenarios
#   bash scripts/bench.sh --report     only re-render docs/benchmarks.md from the JSON
#
# Environment: LUOJIA_BIN (use this binary), BENCH_SKIP_BUILD=1 (don't run cargo build),
# BENCH_KEEP_TMP=1 (keep data dirs and wrk logs), plus each scenario's own knobs
# (see the header of scripts/bench/<name>.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="$ROOT/scripts/bench"
# shellcheck source=lib.sh
source "$ROOT/scripts/lib.sh"

all_scenarios() {
    local f
    for f in "$BENCH_DIR"/*.sh; do
        basename "$f" .sh
    done
}

report_only=0
scenarios=()
failed=()
for arg in "$@"; do
    case "$arg" in
    --list)
        all_scenarios
        exit 0
        ;;
    --report) report_only=1 ;;
    -h | --help)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*) bench_die "unknown option $arg" ;;
    *)
        [[ -f "$BENCH_DIR/$arg.sh" ]] || bench_die "no scenario '$arg' (have: $(all_scenarios | tr '\n' ' '))"
        scenarios+=("$arg")
        ;;
    esac
done

if [[ $report_only == 0 ]]; then
    ((${#scenarios[@]})) || mapfile -t scenarios < <(all_scenarios)
    bench_require_tools
    # Build once here; the scenarios reuse the binary.
    LUOJIA_BIN="$(bench_server_bin)"
    export LUOJIA_BIN
    for s in "${scenarios[@]}"; do
        bench_log "=== scenario $s ==="
        if ! bash "$BENCH_DIR/$s.sh"; then
            bench_log "scenario $s FAILED (its previous docs/bench/$s.json, if any, is kept)"
            failed+=("$s")
        fi
    done
fi

python3 "$BENCH_DIR/report.py" render
if ((${#failed[@]})); then
    bench_die "failed scenarios: ${failed[*]}"
fi
bench_log "done: docs/benchmarks.md"
