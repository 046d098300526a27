"""Section "history": progress reports per second through the write coalescer, on SQLite
and MariaDB, and the database writes (rows, statements) they cost."""

from __future__ import annotations

from report import measured_line, md_table, status_cell

TITLE = "Watch history: progress reports and the writes they cost"
ORDER = 40
TARGET = 5000
DB_NAMES = {"sqlite": "SQLite", "mariadb": "MariaDB"}


def _db(runs, meta, db):
    run = next((r for r in runs if r["label"] == db), None)
    st = meta.get("history_stats", {}).get(db)
    if run is None or st is None:
        return None
    b, e, a = st["before"], st["at_end"], st["after"]
    secs = run["duration_s"]
    non_2xx = run["errors"]["status"]
    ok = run["requests"] - non_2xx
    reports = a["reports"] - b["reports"]
    rows = a["rows_written"] - b["rows_written"]
    stmts = a["statements"] - b["statements"]
    return {
        "db": db,
        "db_version": st.get("db_version"),
        "duration_s": secs,
        "requests": run["requests"],
        "ok_2xx": ok,
        "non_2xx": non_2xx,
        "socket_errors": sum(run["errors"][k] for k in ("connect", "read", "write", "timeout")),
        "reports_per_s": ok / secs,
        "p50_ms": run["latency_us"]["p50"] / 1000,
        "p99_ms": run["latency_us"]["p99"] / 1000,
        "p999_ms": run["latency_us"]["p999"] / 1000,
        "server_reports": reports,
        "rows_written": rows,
        "rows_written_during_run": e["rows_written"] - b["rows_written"],
        "rows_written_final_flush": a["rows_written"] - e["rows_written"],
        "statements": stmts,
        "statements_during_run": e["statements"] - b["statements"],
        "rows_per_s": rows / secs,
        "statements_per_s": stmts / secs,
        "reports_per_row": reports / rows if rows else None,
        "rows_per_statement": rows / stmts if stmts else None,
        "final_flush_timed_out": bool(a.get("timed_out")),
        "warmup_flush_timed_out": bool(b.get("timed_out")),
        "history_rows_in_table": st.get("history_rows"),
        "cpu_cores": run.get("cpu_cores"),
        "cpu_busy_before_pct": st.get("cpu_busy_before_pct"),
    }


def summarize(runs, meta):
    dbs = [d for d in (_db(runs, meta, db) for db in meta.get("databases", [])) if d]
    headline = []
    for d in dbs:
        name = DB_NAMES.get(d["db"], d["db"])
        headline.append({
            "measurement": f"Progress reports (PUT /api/v1/me/history/{{id}}) sustained per second with coalescing, {name}",
            "result": f"**{d['reports_per_s']:,.0f}**/s (2xx only; p50 {d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms"
                      + (f"; {d['non_2xx']:,} non-2xx" if d["non_2xx"] else "; 0 non-2xx") + ")",
            "target": f"≥ {TARGET:,}/s",
            "pass": bool(d["reports_per_s"] >= TARGET and d["non_2xx"] == 0),
        })
        headline.append({
            "measurement": f"Database writes this costs, {name} (flush every {meta.get('flush_interval_ms', 5000) / 1000:g} s)",
            "result": f"**{d['rows_per_s']:,.0f}** rows/s in **{d['statements_per_s']:.1f}** statements/s "
                      f"({d['reports_per_row']:.1f} reports per row written)" if d["rows_written"] else "no rows written",
            "target": "reported",
            "pass": None,
        })
    return {"databases": dbs, "target": TARGET, "headline": headline}


def plot(data, png, plt):
    s, meta = data["summary"], data["meta"]
    dbs = s["databases"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.7, 1]})
    fig.suptitle(
        f"Watch history — {data['generated_at']}, commit {data['git']['short']}"
        f"{'+' if data['git'].get('dirty') else ''}, {data['machine']['nproc']} cores, "
        f"wrk -t{meta.get('threads')} -c{meta.get('connections')} {meta.get('duration_s')} s, "
        f"{meta.get('users'):,} players, flush every {meta.get('flush_interval_ms', 5000) / 1000:g} s",
        fontsize=10,
    )
    ax = axes[0]
    w = 0.26
    x = list(range(len(dbs)))
    series = [
        ("reports/s (2xx)", [d["reports_per_s"] for d in dbs], "#2f6db5", "{:,.0f}"),
        ("rows written/s", [d["rows_per_s"] for d in dbs], "#e8833a", "{:,.0f}"),
        ("SQL statements/s", [d["statements_per_s"] for d in dbs], "#8250df", "{:,.2f}"),
    ]
    for k, (label, ys, color, fmt) in enumerate(series):
        bars = ax.bar([i + (k - 1) * w for i in x], ys, w, label=label, color=color)
        ax.bar_label(bars, labels=[fmt.format(y) for y in ys], fontsize=8, padding=2)
    ax.axhline(s["target"], color="#b42318", ls="--", lw=1)
    ax.text((len(dbs) - 1) / 2, s["target"] * 1.2, f"target\n{s['target']:,}/s", ha="center",
            fontsize=8, color="#b42318")
    ax.set_yscale("log")
    top = max([d["reports_per_s"] for d in dbs] + [s["target"]])
    low = min([d["statements_per_s"] for d in dbs if d["statements_per_s"] > 0] or [1])
    ax.set_ylim(low / 3, top * 40)
    ax.set_xticks(x, [f"{DB_NAMES.get(d['db'], d['db'])}\n{d['reports_per_row']:.0f} reports per row, "
                      f"{d['rows_per_statement']:.0f} rows per statement" if d["rows_written"] else d["db"]
                      for d in dbs], fontsize=9)
    ax.set_ylabel("per second (log scale)")
    ax.set_title("Reports accepted vs database writes", fontsize=10)
    ax.legend(fontsize=8, loc="upper right", ncol=3)
    ax.grid(axis="y", alpha=0.3, which="both")

    ax = axes[1]
    p50 = [d["p50_ms"] for d in dbs]
    p99 = [d["p99_ms"] for d in dbs]
    w = 0.38
    c1 = ax.bar([i - w / 2 for i in x], p50, w, label="p50", color="#7fb3e6")
    c2 = ax.bar([i + w / 2 for i in x], p99, w, label="p99", color="#1f4e8c")
    ax.bar_label(c1, fmt="{:.1f}", fontsize=8, padding=2)
    ax.bar_label(c2, fmt="{:.1f}", fontsize=8, padding=2)
    ax.set_xticks(x, [DB_NAMES.get(d["db"], d["db"]) for d in dbs])
    ax.set_ylabel("latency, ms")
    ax.set_ylim(0, max(p99 + [1]) * 1.2)
    ax.set_title(f"Report latency ({meta.get('connections')} connections)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(png, dpi=110)


def _noise(dbs):
    other = [d["cpu_cores"]["other"] for d in dbs if d.get("cpu_cores")]
    if not other:
        return ""
    if max(other) > 0.15:
        return (f" **Warning:** other processes used up to {max(other):.2f} cores during a measured run "
                "(the load generator and server shared the machine with other work), so these numbers are "
                "likely low; re-run on a quiet machine.")
    return f" Other processes used at most {max(max(other), 0):.2f} cores during the measured runs."


def markdown(data, png_rel):
    s, meta = data["summary"], data["meta"]
    dbs = s["databases"]
    flush_s = meta.get("flush_interval_ms", 5000) / 1000
    users = meta.get("users")
    out = [
        measured_line(data)
        + f" Flush interval **{flush_s:g} s** (the default, `APP_HISTORY__FLUSH_INTERVAL_MS`). "
        + f"The machine was at most {meta.get('cpu_busy_before_pct', '?')}% busy just before measuring."
        + _noise(dbs),
        "",
        md_table(["Measurement", "Result", "Target", "Status"],
                 [[r["measurement"], r["result"], r["target"], status_cell(r.get("pass"))] for r in s["headline"]]),
        "",
    ]
    rows = []
    for d in dbs:
        c = d.get("cpu_cores") or {}
        rows.append([
            DB_NAMES.get(d["db"], d["db"]),
            f"{d['reports_per_s']:,.0f}", f"{d['p50_ms']:.2f}", f"{d['p99_ms']:.2f}",
            f"{d['ok_2xx']:,}", f"{d['non_2xx']:,}", d["socket_errors"], f"{d['server_reports']:,}",
            f"{d['rows_written']:,} ({d['rows_written_during_run']:,} + {d['rows_written_final_flush']:,})",
            f"{d['statements']:,}", f"{d['rows_per_s']:,.0f}", f"{d['statements_per_s']:.2f}",
            f"{d['reports_per_row']:.1f}" if d["reports_per_row"] else "—",
            f"{d['rows_per_statement']:.0f}" if d["rows_per_statement"] else "—",
            f"{c.get('server', 0):.2f} / {c.get('wrk', 0):.2f}",
        ])
    out += [
        md_table(["Database", "reports/s (2xx)", "p50 ms", "p99 ms", "2xx", "non-2xx", "socket errors",
                  "reports counted by the server", "rows written (during run + final flush)", "statements",
                  "rows/s", "statements/s", "reports per row", "rows per statement", "CPU cores server / wrk"],
                 rows),
        "",
    ]
    versions = "; ".join(f"{DB_NAMES.get(d['db'], d['db'])}: {d['db_version']}" for d in dbs if d.get("db_version"))
    if versions:
        out += [f"Databases: {versions}.", ""]
    if png_rel:
        out += [f"![Watch history: reports per second against rows and statements written]({png_rel})", ""]
    timed_out = [d["db"] for d in dbs if d["final_flush_timed_out"]]
    out += [
        f"Method: `scripts/bench/history.sh` runs, once per database, a fresh release server (embedded "
        f"SQLite in a fresh data dir; then MariaDB through `APP_DATABASE__URL=mysql://…` on a database "
        f"`luojia_bench_<random>` created for the run and dropped after it), with log level warn, "
        f"register/login rate limits lifted and bcrypt cost {meta.get('bcrypt_cost')} so that the players "
        f"register quickly (not production settings). An admin (registered, promoted with "
        f"`luojia user create-admin`, logged in again) creates {meta.get('movies')} movies of 2 h through "
        f"`POST /api/v1/movies`; as no media is ingested they are set to status `ready` directly in the "
        f"database (`UPDATE movies SET status='ready'`). {users:,} players register; player *i* watches "
        f"movie *i* mod {meta.get('movies')}, so there are {users:,} distinct (user, movie) keys. A "
        f"generated wrk script walks the players round-robin (each wrk thread its share) and sends "
        f"`PUT /api/v1/me/history/{{movie}}` with the player's token and a position "
        f"{meta.get('position_step_ms', 5000) / 1000:g} s further on each time, like players reporting "
        f"their own movie again and again. wrk `-t{meta.get('threads')} -c{meta.get('connections')}`: "
        f"{meta.get('warmup_s')} s warm-up, a wait for the flush that writes it, then "
        f"{meta.get('duration_s')} s measured. Reports/s counts 2xx answers only (204); wrk runs on the "
        f"same {data['machine'].get('nproc', '?')} cores as the server and the database.",
        "",
        "Writes: the server's cumulative counters (`GET /internal/stats` → `history.reports`, "
        "`rows_written`, `statements`) are read after the warm-up's flush (nothing pending), at the end of "
        "the run, and after the next flush following the run (waited for by polling, at most two intervals "
        "plus 5 s" + (f"; it timed out on {', '.join(timed_out)}" if timed_out else "") + "). Rows and "
        "statements per second are the whole difference (flushes during the run plus that final flush, "
        "which writes the run's last reports) divided by the run's length: the writes that the run's "
        "reports cost. The columns show both parts. The reports counted by the server match the 2xx "
        "count (up to requests in flight when wrk stops).",
        "",
        f"What the write rate depends on: a flush writes one row per key reported since the previous "
        f"flush, so each flush writes at most {users:,} rows here (the number of keys) whatever the report "
        f"rate, and a {meta.get('duration_s')} s run costs at most about ({meta.get('duration_s')} ÷ "
        f"{flush_s:g} + 1) × {users:,} rows (the + 1 is the final flush); a flush writes up to 500 rows per "
        f"statement. To reach the rate on one small machine this run reports each key several times per "
        f"second; real players report every few seconds, so with N players watching rows/s ≈ "
        f"N ÷ max(report period, flush interval), and coalescing then saves mostly statements "
        f"(≈ rows/s ÷ 500) rather than rows.",
    ]
    return "\n".join(out)
