#!/usr/bin/env python3
"""Benchmark results: summarise a scenario's raw runs, and render docs/benchmarks.md.

    report.py summarize NAME --runs runs.jsonl --meta meta.json --out docs/bench/NAME.json
    report.py render [--docs docs]

Each scenario `scripts/bench/NAME.sh` has a section module `scripts/bench/sections/NAME.py`
that may define:

    TITLE = "..."                      the section heading
    ORDER = 10                         sections are rendered by ORDER, then name
    summarize(runs, meta) -> dict      must return {"headline": [row, ...], ...}; a row is
                                       {"measurement", "result", "target", "pass"} where
                                       pass is True/False/None (None: reported only)
    plot(data, png_path, plt)          draw docs/bench/NAME.png with matplotlib.pyplot
    markdown(data, png_rel) -> str     the section body (without heading)

Missing functions fall back to generic ones, so a new section needs little code. The JSON
file (docs/bench/NAME.json) holds everything: machine, git commit, settings, raw runs and
the summary, so the report can be re-rendered without re-running anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "scripts" / "bench"
SECTIONS_DIR = BENCH_DIR / "sections"
# Section modules import their helpers with `from report import ...`.
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))


# --------------------------------------------------------------------------------------
# machine and source facts


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_facts() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    os_name = ""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    return {
        "nproc": nproc,
        "memory_gib": mem_gib,
        "cpu_model": cpu or platform.processor() or "unknown",
        "os": os_name or platform.platform(),
        "kernel": platform.release(),
        "rustc": _run(["rustc", "--version"]),
    }


def git_facts() -> dict:
    # BENCH_SOURCE_DIR: the checkout the measured binaries were built from (e.g. a clean
    # worktree of one commit), when it is not this one.
    src = os.environ.get("BENCH_SOURCE_DIR") or str(ROOT)
    commit = _run(["git", "-C", src, "rev-parse", "HEAD"])
    # Uncommitted changes to what is built (the server's sources) make the commit inexact.
    dirty = bool(_run(["git", "-C", src, "status", "--porcelain", "--", "backend", "Cargo.toml", "Cargo.lock"]))
    return {"commit": commit, "short": commit[:10], "dirty": dirty}


# --------------------------------------------------------------------------------------
# section modules


def load_section(name: str):
    path = SECTIONS_DIR / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"bench_section_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SECTIONS_DIR))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.pop(0)
    return mod


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def status_cell(passed) -> str:
    return {True: "✅ pass", False: "❌ FAIL"}.get(passed, "— (reported)")


def md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def measured_line(data: dict) -> str:
    g = data.get("git", {})
    m = data.get("machine", {})
    commit = f"`{g.get('short', '?')}`" + (" plus uncommitted changes" if g.get("dirty") else "")
    return (
        f"Measured {data.get('generated_at', '?')} at commit {commit}, "
        f"on {m.get('nproc', '?')} cores ({m.get('cpu_model', '?')})."
    )


# --------------------------------------------------------------------------------------
# summarize


def cmd_summarize(args) -> None:
    runs = [json.loads(l) for l in Path(args.runs).read_text().splitlines() if l.strip()]
    meta = json.loads(Path(args.meta).read_text()) if args.meta and Path(args.meta).exists() else {}
    mod = load_section(args.name)
    summary = mod.summarize(runs, meta) if mod and hasattr(mod, "summarize") else {"headline": []}
    data = {
        "name": args.name,
        "title": getattr(mod, "TITLE", args.name),
        "generated_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "git": git_facts(),
        "machine": machine_facts(),
        "meta": meta,
        "summary": summary,
        "runs": runs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    for row in summary.get("headline", []):
        print(f"[bench]   {row['measurement']}: {row['result']}  (target {row['target']}: "
              f"{status_cell(row.get('pass'))})", file=sys.stderr)


# --------------------------------------------------------------------------------------
# render


def import_pyplot():
    """matplotlib's pyplot (installed with pip when missing), or None."""
    try:
        import matplotlib
    except ImportError:
        print("[bench] matplotlib is missing; installing it with pip", file=sys.stderr)
        rc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"]).returncode
        if rc != 0:
            print("[bench] could not install matplotlib: no plots", file=sys.stderr)
            return None
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def generic_markdown(data: dict, png_rel: str | None) -> str:
    parts = [measured_line(data), ""]
    rows = data.get("summary", {}).get("headline", [])
    if rows:
        parts.append(md_table(
            ["Measurement", "Result", "Target", "Status"],
            [[r["measurement"], r["result"], r["target"], status_cell(r.get("pass"))] for r in rows],
        ))
    if png_rel:
        parts += ["", f"![{data.get('title', data['name'])}]({png_rel})"]
    return "\n".join(parts)


HOW_TO_RUN = """\
```sh
make bench                          # every scenario (same as: bash scripts/bench.sh)
bash scripts/bench.sh accounts      # one scenario; the other sections keep their results
bash scripts/bench.sh --list        # the scenarios
bash scripts/bench.sh --report      # only re-render this page from docs/bench/*.json
```

`scripts/bench.sh` builds the release server (`cargo build --release -p luojia`; the binary is
taken from the cargo target dir, which honours `CARGO_TARGET_DIR`; `LUOJIA_BIN=path` uses another
one and `BENCH_SKIP_BUILD=1` skips the build), installs `wrk` with apt-get if it is missing, and
runs each scenario `scripts/bench/<name>.sh`. A scenario starts its own `luojia serve` on a random
free loopback port with a fresh temporary data dir (embedded SQLite), stops it by PID when it
exits, and writes `docs/bench/<name>.json` (settings, raw wrk runs, summary, machine, commit).
`scripts/bench/report.py` then draws `docs/bench/<name>.png` (matplotlib, installed with pip if
missing) and rewrites this page. Each scenario script lists its knobs (run length, rounds,
connections, bcrypt cost) in its header. The catalog scenario also uses `oha` (fixed-rate load;
`cargo install --locked oha` when missing), `nginx` and `ffmpeg` (apt-get when missing); set
`BENCH_SOURCE_DIR` to the checkout the binaries were built from when it is not this one (its
commit is recorded). Load generator and server share the machine's cores,
so the absolute numbers are lower than on a dedicated server; the ratios compare routes measured
alternately under the same conditions.

To add a section: write `scripts/bench/<name>.sh` (source `scripts/lib.sh`, use `bench_start_server`,
`bench_wrk` and `bench_summarize <name>`) and `scripts/bench/sections/<name>.py` (`TITLE`, `ORDER`,
`summarize`, and optionally `plot` and `markdown`)."""


def cmd_render(args) -> None:
    docs = Path(args.docs)
    bench_dir = docs / "bench"
    sections = []
    for path in sorted(bench_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            print(f"[bench] skipping {path}: {e}", file=sys.stderr)
            continue
        name = data.get("name", path.stem)
        if name != path.stem:
            # A reference copy (e.g. realtime-before-core.json), read by its section.
            continue
        mod = load_section(name)
        sections.append((getattr(mod, "ORDER", 100), name, data, mod))
    sections.sort(key=lambda s: (s[0], s[1]))

    plt = import_pyplot() if sections else None
    summary_rows = []
    bodies = []
    for _, name, data, mod in sections:
        png_rel = None
        if plt is not None and mod is not None and hasattr(mod, "plot"):
            png = bench_dir / f"{name}.png"
            try:
                mod.plot(data, png, plt)
                png_rel = f"bench/{name}.png"
            except Exception as e:  # a broken plot must not lose the numbers
                print(f"[bench] plot for {name} failed: {e!r}", file=sys.stderr)
            finally:
                plt.close("all")
        elif (bench_dir / f"{name}.png").exists():
            png_rel = f"bench/{name}.png"
        title = data.get("title") or getattr(mod, "TITLE", name)
        for r in data.get("summary", {}).get("headline", []):
            summary_rows.append([f"[{title}](#{anchor(title)})", r["measurement"], r["result"],
                                 r["target"], status_cell(r.get("pass"))])
        if mod is not None and hasattr(mod, "markdown"):
            body = mod.markdown(data, png_rel)
        else:
            body = generic_markdown(data, png_rel)
        bodies.append(f"## {title}\n\n{body.strip()}\n")

    out = ["# Benchmarks", "",
           "<!-- Generated by scripts/bench/report.py from docs/bench/*.json (`make bench`). "
           "Do not edit by hand. -->", ""]
    if summary_rows:
        out += [md_table(["Section", "Measurement", "Result", "Target", "Status"], summary_rows), ""]
    else:
        out += ["No results yet: run `make bench`.", ""]
    out += ["## How to run", "", HOW_TO_RUN, ""]
    if sections:
        out += ["## Machine", ""]
        latest = max(sections, key=lambda s: s[2].get("generated_at", ""))[2]
        m, g = latest.get("machine", {}), latest.get("git", {})
        rows = [
            ["CPU", m.get("cpu_model", "?")],
            ["Cores (nproc)", m.get("nproc", "?")],
            ["Memory", f"{m.get('memory_gib', '?')} GiB"],
            ["OS / kernel", f"{m.get('os', '?')} / {m.get('kernel', '?')}"],
            ["Rust", m.get("rustc", "?") or "?"],
            ["Load generator", latest.get("meta", {}).get("wrk_version", "wrk")],
            ["Date", latest.get("generated_at", "?")],
            ["Git commit", f"`{g.get('commit', '?')}`" + (" plus uncommitted changes" if g.get("dirty") else "")],
        ]
        out += [md_table(["Item", "Value"], rows), ""]
        others = [s for s in sections if s[2].get("machine") != m]
        if others:
            out += ["Sections measured on another machine say so in their own text.", ""]
    out += bodies
    (docs / "benchmarks.md").write_text("\n".join(out).rstrip() + "\n")
    print(f"[bench] wrote {docs / 'benchmarks.md'}", file=sys.stderr)


def anchor(title: str) -> str:
    """GitHub's heading anchor for a title."""
    keep = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return keep.replace(" ", "-")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("name")
    s.add_argument("--runs", required=True)
    s.add_argument("--meta")
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_summarize)
    r = sub.add_parser("render")
    r.add_argument("--docs", default=str(ROOT / "docs"))
    r.set_defaults(func=cmd_render)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
