"""Section "realtime": WebSocket chat fan-out vs a bare broadcast loop, seek latency, and
server memory per idle connection (scripts/bench/realtime.sh, tools/loadgen)."""

from __future__ import annotations

from report import measured_line, md_table, status_cell

TITLE = "Real-time: chat fan-out, seek latency, memory per connection"
ORDER = 30
THROUGHPUT_RATIO_TARGET = 0.5
P99_RATIO_TARGET = 2.0
SEEK_P99_TARGET_MS = 10.0
KIB_PER_CONN_TARGET = 16.0


def _run(runs, label):
    rs = [r for r in runs if r.get("label") == label]
    return rs[-1] if rs else None


def summarize(runs, meta):
    bare, server, sync, idle = (_run(runs, x) for x in ("bare", "server", "sync", "idle"))
    headline = []
    out = {"bare": bare, "server": server, "sync": sync, "idle": idle}
    if bare and server:
        tr = server["deliveries_per_s"] / bare["deliveries_per_s"] if bare["deliveries_per_s"] else None
        b99, s99 = bare["latency"]["p99_ms"], server["latency"]["p99_ms"]
        pr = s99 / b99 if b99 else None
        out.update(throughput_ratio=tr, p99_ratio=pr)
        valid = server["lost"] == 0 and server["acked"] > 0
        headline.append({
            "measurement": f"Chat fan-out to {server['connections']:,} members ({server['senders']} senders, "
                           f"{server['rate_target']:g} msg/s): deliveries/s as a ratio to a bare tokio broadcast loop, same run",
            "result": (f"**{tr:.2f}** ({server['deliveries_per_s']:,.0f} / {bare['deliveries_per_s']:,.0f} deliveries/s)"
                       if tr is not None else "n/a"),
            "target": f"≥ {THROUGHPUT_RATIO_TARGET}",
            "pass": bool(tr is not None and valid and tr >= THROUGHPUT_RATIO_TARGET),
        })
        headline.append({
            "measurement": "Chat delivery latency p99 as a ratio to the bare loop",
            "result": (f"**{pr:.2f}×** ({s99:.2f} ms vs {b99:.2f} ms)" if pr is not None else "n/a"),
            "target": f"≤ {P99_RATIO_TARGET:g}×",
            "pass": bool(pr is not None and pr <= P99_RATIO_TARGET),
        })
        headline.append({
            "measurement": "Chat messages lost / duplicated (every member must get every acknowledged seq once)",
            "result": f"**{server['lost']}** lost, **{server['duplicates']}** duplicates of {server['expected']:,}",
            "target": "0",
            "pass": server["lost"] == 0 and server["duplicates"] == 0 and server["expected"] > 0,
        })
    if sync:
        p99 = sync["latency"]["p99_ms"]
        headline.append({
            "measurement": f"Seek → playback_state at each of {sync['connections']:,} members, p99",
            "result": f"**{p99:.2f} ms** ({sync['delivered']:,}/{sync['expected']:,} received)",
            "target": f"≤ {SEEK_P99_TARGET_MS:g} ms",
            "pass": bool(p99 <= SEEK_P99_TARGET_MS and sync["lost"] == 0),
        })
    if idle:
        k = idle["kib_per_connection"]
        headline.append({
            "measurement": f"Server memory per idle authenticated connection (VmRSS growth over "
                           f"{idle['connections_open']:,} connections)",
            "result": f"**{k:.1f} KiB**",
            "target": f"≤ {KIB_PER_CONN_TARGET:g} KiB",
            "pass": bool(idle["connections_open"] > 0 and k <= KIB_PER_CONN_TARGET),
        })
    headline.append({
        "measurement": "Cross-instance (Redis) delivery, extra p99",
        "result": "not measured",
        "target": "≤ +3 ms",
        "pass": None,
    })
    out["headline"] = headline
    return out


def plot(data, png, plt):
    s = data["summary"]
    bare, server = s.get("bare"), s.get("server")
    if not (bare and server):
        raise ValueError("no fan-out runs to plot")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    fig.suptitle(f"Real-time fan-out — {data['generated_at']}, commit {data['git']['short']}, "
                 f"{data['machine']['nproc']} cores, {server['connections']:,} members", fontsize=11)
    ax = axes[0]
    b = ax.bar(["bare loop", "server"], [bare["deliveries_per_s"], server["deliveries_per_s"]],
               color=["#9aa5b1", "#2f6db5"])
    ax.bar_label(b, fmt="{:,.0f}", fontsize=8)
    ax.set_ylabel("deliveries / s")
    ax.set_title("Throughput", fontsize=10)
    ax = axes[1]
    qs = ["p50_ms", "p90_ms", "p99_ms", "max_ms"]
    x = list(range(len(qs)))
    w = 0.38
    b1 = ax.bar([i - w / 2 for i in x], [bare["latency"][q] for q in qs], w, label="bare loop", color="#9aa5b1")
    b2 = ax.bar([i + w / 2 for i in x], [server["latency"][q] for q in qs], w, label="server", color="#2f6db5")
    ax.bar_label(b1, fmt="{:.1f}", fontsize=7)
    ax.bar_label(b2, fmt="{:.1f}", fontsize=7)
    ax.set_xticks(x, [q.replace("_ms", "") for q in qs])
    ax.set_ylabel("delivery latency, ms")
    ax.set_title("Latency (send → receipt at each member)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(png, dpi=110)


def markdown(data, png_rel):
    s, meta = data["summary"], data["meta"]
    out = [
        measured_line(data)
        + f" The load generator (`tools/loadgen`) runs on the same machine as the server; the bare"
        + " baseline is a minimal tokio-tungstenite server inside the load generator that broadcasts"
        + " pre-serialized frames with `tokio::sync::broadcast`. Bench users are registered with"
        + f" bcrypt cost {meta.get('bcrypt_cost')} and lifted rate limits. Open-file limit"
        + f" {meta.get('nofile_limit')} (server: {meta.get('server_nofile_limit')}).",
        "",
        md_table(["Measurement", "Result", "Target", "Status"],
                 [[r["measurement"], r["result"], r["target"], status_cell(r.get("pass"))] for r in s["headline"]]),
        "",
    ]
    rows = []
    for name in ("bare", "server", "sync"):
        r = s.get(name)
        if not r:
            continue
        lat = r["latency"]
        rows.append([name, f"{r['connections']:,}", f"{r.get('deliveries_per_s', 0):,.0f}",
                     f"{r['delivered']:,}", f"{r['expected']:,}", r["lost"], r.get("duplicates", "—"),
                     r.get("errors", 0), f"{lat['p50_ms']:.2f}", f"{lat['p90_ms']:.2f}", f"{lat['p99_ms']:.2f}",
                     f"{lat['max_ms']:.2f}", r.get("cpu_cores", {}).get("server", "—")])
    if rows:
        out += [md_table(["run", "members", "deliveries/s", "delivered", "expected", "lost", "dups", "errors",
                          "p50 ms", "p90 ms", "p99 ms", "max ms", "server cores"], rows), ""]
    idle = s.get("idle")
    if idle:
        out += [f"Idle: {idle['connections_open']:,} of {idle['connections_requested']:,} connections opened "
                f"({idle['connect_failures']} failed) over {idle['users']:,} users; server VmRSS "
                f"{idle['server_rss_before_kib']:,} → {idle['server_rss_after_kib']:,} KiB.", ""]
    if png_rel:
        out += [f"![realtime]({png_rel})", ""]
    return "\n".join(out)
