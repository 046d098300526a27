"""Section "realtime": WebSocket chat fan-out vs a bare broadcast loop, seek latency,
server memory per idle connection, chat delivery across two instances through Redis, CPU
per delivery, memory per room member, join time, saturation, send → ack latency on SQLite
and MariaDB, and chat order (scripts/bench/realtime.sh, tools/loadgen)."""

from __future__ import annotations

import json
from pathlib import Path

from report import measured_line, md_table, status_cell

TITLE = "Real-time: chat fan-out, seek latency, memory per connection, two instances"
ORDER = 30
THROUGHPUT_RATIO_TARGET = 0.5
P99_RATIO_TARGET = 2.0
SEEK_P99_TARGET_MS = 10.0
KIB_PER_CONN_TARGET = 16.0
REDIS_EXTRA_P99_TARGET_MS = 3.0
CPU_PER_DELIVERY_TARGET_US = 3.0
CPU_VS_BARE_TARGET = 2.0
KIB_PER_MEMBER_TARGET = 16.0
LEFT_OVER_BASELINE_TARGET_PCT = 10.0
JOIN_2000_TARGET_S = 10.0
CAPACITY_RATIO_TARGET = 0.8
ACK_P99_TARGET_MS = 20.0
# The measurements taken before the ordered realtime core (issue 9), shown next to the
# current ones when present.
BEFORE_FILE = Path(__file__).resolve().parents[3] / "docs" / "bench" / "realtime-before-core.json"


def _run(runs, label):
    rs = [r for r in runs if r.get("label") == label]
    return rs[-1] if rs else None


def summarize(runs, meta):
    bare, server, sync, idle, redis = (_run(runs, x) for x in ("bare", "server", "sync", "idle", "redis"))
    lat_bare, lat_server = _run(runs, "bare-latency"), _run(runs, "server-latency")
    headline = []
    out = {"bare": bare, "server": server, "sync": sync, "idle": idle, "redis": redis,
           "bare_latency": lat_bare, "server_latency": lat_server}
    if bare and server:
        tr = server["deliveries_per_s"] / bare["deliveries_per_s"] if bare["deliveries_per_s"] else None
        # p99 from the pair at the lower rate when there is one (see realtime.sh).
        lb, ls = (lat_bare, lat_server) if lat_bare and lat_server else (bare, server)
        b99, s99 = lb["latency"]["p99_ms"], ls["latency"]["p99_ms"]
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
        at = (f" at {ls['rate_target']:g} msg/s ({ls['connections'] * ls['rate_target']:,.0f} deliveries/s, "
              f"half the throughput run's rate; same members and senders)" if ls is not server else "")
        sat = (f"; at the throughput run's {server['rate_target']:g} msg/s: {server['latency']['p99_ms']:,.0f} ms vs "
               f"{bare['latency']['p99_ms']:,.0f} ms" if ls is not server else "")
        headline.append({
            "measurement": f"Chat delivery latency p99{at} as a ratio to the bare loop, same run",
            "result": (f"**{pr:.2f}×** ({s99:.2f} ms vs {b99:.2f} ms{sat})" if pr is not None else "n/a"),
            "target": f"≤ {P99_RATIO_TARGET:g}×",
            "pass": bool(pr is not None and pr <= P99_RATIO_TARGET),
        })
        headline.append({
            "measurement": "Chat messages lost / duplicated (every member must get every acknowledged seq once)",
            "result": f"**{server['lost']}** lost, **{server['duplicates']}** duplicates of {server['expected']:,}"
                      + (f" (at the lower rate: {lat_server['lost']} lost, {lat_server['duplicates']} duplicates of "
                         f"{lat_server['expected']:,})" if lat_server else ""),
            "target": "0",
            "pass": server["lost"] == 0 and server["duplicates"] == 0 and server["expected"] > 0
                    and (not lat_server or (lat_server["lost"] == 0 and lat_server["duplicates"] == 0)),
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
        warm = idle.get("warm_connections")
        if warm:
            what = (f"VmRSS growth from {warm:,} connections, one per user, to "
                    f"{idle['connections_open']:,} over the same users")
            result = (f"**{k:.1f} KiB** (from no connection: {idle['kib_per_connection_all']:.1f} KiB, "
                      f"the first connection of each user included)")
        else:
            what = f"VmRSS growth over {idle['connections_open']:,} connections"
            result = f"**{k:.1f} KiB**"
        headline.append({
            "measurement": f"Server memory per idle authenticated connection ({what})",
            "result": result,
            "target": f"≤ {KIB_PER_CONN_TARGET:g} KiB",
            "pass": bool(idle["connections_open"] > 0 and k <= KIB_PER_CONN_TARGET),
        })
    headline.append(_redis_row(redis, out))
    headline += _core_rows(runs, out)
    out["headline"] = headline
    return out


def _steps(run):
    """The step records of a run (one, for a run at a single rate)."""
    if not run:
        return []
    return run.get("steps") or [run]


def _fell_behind(run):
    steps = run.get("steps") or []
    return bool(steps and steps[-1].get("behind"))


def _point(step):
    return f"{step['connections']:,} × {step['rate_target']:g}"


def _core_rows(runs, out):
    """Headline rows for issue 9's measurements; the details go to `out`."""
    rows = []
    # --- CPU per delivery -------------------------------------------------------------
    points = []
    for r in runs:
        label = r.get("label", "")
        if not label.startswith("cpu-server-"):
            continue
        bare = _run(runs, "cpu-bare-" + label.removeprefix("cpu-server-"))
        bare_steps = _steps(bare)
        for i, s in enumerate(_steps(r)):
            b = bare_steps[i] if i < len(bare_steps) else None
            points.append({
                "members": s["connections"], "rate": s["rate_target"],
                "offered": s["connections"] * s["rate_target"],
                "server_us": s.get("cpu_us_per_delivery"), "bare_us": b and b.get("cpu_us_per_delivery"),
                "server_cpu_s": s.get("server_cpu_s"), "bare_cpu_s": b and b.get("server_cpu_s"),
                "delivered": s["delivered"], "expected": s["expected"], "lost": s["lost"],
                "duplicates": s["duplicates"], "out_of_order": s.get("out_of_order"),
                "p99_ms": s["latency"]["p99_ms"], "bare_p99_ms": b and b["latency"]["p99_ms"],
                "ack_p99_ms": s.get("ack_latency", {}).get("p99_ms"),
                "deliveries_per_s": s["deliveries_per_s"],
            })
    out["cpu_points"] = points
    if points:
        measured = [p for p in points if p["server_us"] is not None]
        worst = max(measured, key=lambda p: p["server_us"]) if measured else None
        cells = "; ".join(
            f"{p['members']:,}×{p['rate']:g}: {p['server_us']:.2f}" + (f" (bare {p['bare_us']:.2f})" if p["bare_us"] else "")
            for p in measured)
        rows.append({
            "measurement": "CPU per delivery: server CPU seconds (utime+stime, sending window) ÷ deliveries, one room, "
                           "chat at a fixed rate, members × msg/s (the bare loop's, in its own process, same run)",
            "result": (f"**{worst['server_us']:.2f} µs** at worst ({cells} µs)" if worst else "n/a"),
            "target": f"≤ {CPU_PER_DELIVERY_TARGET_US:g} µs at every point",
            "pass": bool(measured and len(measured) == len(points)
                         and all(p["server_us"] <= CPU_PER_DELIVERY_TARGET_US and p["lost"] == 0 for p in measured)),
        })
        top = max(points, key=lambda p: p["offered"])
        ratio = top["server_us"] / top["bare_us"] if top["server_us"] and top["bare_us"] else None
        out["cpu_vs_bare_at_top"] = ratio
        rows.append({
            "measurement": f"CPU per delivery at the highest rate ({_point({'connections': top['members'], 'rate_target': top['rate']})} "
                           f"= {top['offered']:,.0f} deliveries/s) as a ratio to the bare loop's, same run",
            "result": (f"**{ratio:.1f}×** ({top['server_us']:.2f} vs {top['bare_us']:.2f} µs)" if ratio else "n/a"),
            "target": f"≤ {CPU_VS_BARE_TARGET:g}×",
            "pass": bool(ratio is not None and ratio <= CPU_VS_BARE_TARGET),
        })
    # --- memory per member, join time -------------------------------------------------
    rooms = sorted((r for r in runs if r.get("mode") == "room"), key=lambda r: r["connections"])
    out["rooms"] = rooms
    if rooms:
        rows.append({
            "measurement": "Memory per member joining one room (fresh server; VmRSS after all joined minus before, "
                           "connections already open) and VmRSS after they all left vs before they joined",
            "result": "; ".join(f"{r['connections']:,} members: **{r['kib_per_member']:.1f} KiB**/member, "
                                f"after leaving {r['left_over_connected_pct']:+.1f} %" for r in rooms),
            "target": f"≤ {KIB_PER_MEMBER_TARGET:g} KiB, back within {LEFT_OVER_BASELINE_TARGET_PCT:g} %",
            "pass": all(r["joined"] == r["connections"] and r["kib_per_member"] <= KIB_PER_MEMBER_TARGET
                        and r["left_over_connected_pct"] <= LEFT_OVER_BASELINE_TARGET_PCT for r in rooms),
        })
        big = rooms[-1]
        rows.append({
            "measurement": f"{big['connections']:,} members joining one room at once: first → last `joined`",
            "result": f"**{big['join_s']:.1f} s** ({big['joined']:,}/{big['connections']:,} joined; "
                      f"{big['join_wall_s']:.1f} s from the joins sent)",
            "target": f"< {JOIN_2000_TARGET_S:g} s" + ("" if big["connections"] >= 2000 else " (for 2,000)"),
            "pass": bool(big["joined"] == big["connections"] and big["join_s"] < JOIN_2000_TARGET_S
                         and big["connections"] >= 2000),
        })
    # --- saturation -------------------------------------------------------------------
    sb, ss, s80 = _run(runs, "sat-bare"), _run(runs, "sat-server"), _run(runs, "sat-server-80")
    if sb and ss:
        cb, cs = sb.get("capacity_deliveries_per_s"), ss.get("capacity_deliveries_per_s")
        ratio = cs / cb if cb and cs else None
        out["capacity_ratio"] = ratio
        def top_step(r):
            steps = r.get("steps") or []
            last = steps[-1] if steps else None
            return (f"behind at {last['rate_target']:g} msg/s" if last and last.get("behind")
                    else "kept up at every step")
        rows.append({
            "measurement": f"Saturation, {ss['connections']:,} members: the highest deliveries/s that kept up "
                           "(delivered and acknowledged ≥ 99 %, p99 within bound), server vs the bare loop, same run",
            "result": (f"**{ratio:.2f}** ({cs or 0:,.0f} vs {cb or 0:,.0f} deliveries/s; server {top_step(ss)}, "
                       f"bare {top_step(sb)})" if ratio is not None else
                       f"n/a (server {cs}, bare {cb})"),
            "target": f"≥ {CAPACITY_RATIO_TARGET:g}",
            # A server that never fell behind has an unknown capacity (raise BENCH_RT_SAT_RATES).
            "pass": (None if not _fell_behind(ss) else bool(ratio is not None and ratio >= CAPACITY_RATIO_TARGET)),
        })
        if s80:
            rows.append({
                "measurement": "Server delivery p99 at 80 % of its own capacity",
                "result": f"**{s80['latency']['p99_ms']:.1f} ms** at {s80['rate_target']:g} msg/s "
                          f"({s80['deliveries_per_s']:,.0f} deliveries/s; {s80['lost']} lost)",
                "target": "reported",
                "pass": None,
            })
    # --- send → chat_ack --------------------------------------------------------------
    ack_rows = []
    for p in points:
        if p["members"] == 200 and p["rate"] == 100:
            ack_rows.append(("SQLite", p["ack_p99_ms"]))
    mdb = _run(runs, "ack-mariadb")
    if mdb:
        ack_rows.append(("MariaDB", mdb.get("ack_latency", {}).get("p99_ms")))
    if ack_rows:
        rows.append({
            "measurement": "Send → `chat_ack` p99 at 200 members × 100 msg/s (20 senders)",
            "result": ", ".join(f"{db} **{v:.1f} ms**" if v is not None else f"{db} n/a" for db, v in ack_rows),
            "target": f"≤ {ACK_P99_TARGET_MS:g} ms",
            "pass": all(v is not None and v <= ACK_P99_TARGET_MS for _, v in ack_rows) and len(ack_rows) == 2,
        })
    # --- order ------------------------------------------------------------------------
    chat_steps = [(r["label"], s) for r in runs if r.get("mode") == "server" or r.get("label", "").startswith(
        ("server", "cpu-server", "sat-server", "ack-", "burst", "redis")) for s in _steps(r) if "out_of_order" in s]
    burst = _run(runs, "burst")
    if chat_steps:
        total = sum(s["out_of_order"] for _, s in chat_steps)
        bs = _steps(burst)[0] if burst else None
        rows.append({
            "measurement": "Chats received out of `seq` order (a lower seq after a higher one on one connection), "
                           "over every server chat run" + (f", including {bs['connections']} members with "
                           f"{bs['senders']} senders sending bursts of {bs['burst']['size']} every "
                           f"{bs['burst']['interval_ms']} ms" if bs else ""),
            "result": f"**{total:,}** in {len(chat_steps)} runs"
                      + (f" (burst run: {bs['out_of_order']:,}, at {bs['members_out_of_order']} of "
                         f"{bs['connections']} members)" if bs else ""),
            "target": "0",
            "pass": total == 0,
        })
    return rows


def _redis_row(redis, out):
    """The headline row for the Redis part: remote p99 - local p99 from one run."""
    target = f"≤ +{REDIS_EXTRA_P99_TARGET_MS:g} ms"
    if not (redis and redis.get("local") and redis.get("remote")):
        return {"measurement": "Chat delivery across instances (Redis), extra p99",
                "result": "not measured", "target": target, "pass": None}
    loc, rem = redis["local"], redis["remote"]
    l99, r99 = loc["latency"]["p99_ms"], rem["latency"]["p99_ms"]
    extra = r99 - l99
    dropped = sum(redis.get("pubsub", {}).get(x, {}).get("dropped", 0) for x in ("a", "b"))
    # Every member (senders too) got every acknowledged message once.
    complete = all(g["expected"] > 0 and g["lost"] == 0 and g["duplicates"] == 0 for g in (loc, rem, redis))
    out["redis_extra_p99_ms"] = extra
    return {
        "measurement": f"Chat delivery across two instances through Redis ({redis['connections']:,} members: "
                       f"{redis['senders']} senders and {loc['members']:,} receivers on one instance, "
                       f"{rem['members']:,} receivers on the other; {redis['rate_target']:g} msg/s): p99 at the "
                       "receivers on the other instance minus p99 at those on the senders' instance, same run",
        "result": f"**{extra:+.2f} ms** (p99 {r99:.2f} vs {l99:.2f} ms, p50 {rem['latency']['p50_ms']:.2f} vs "
                  f"{loc['latency']['p50_ms']:.2f} ms; lost {rem['lost']} / {loc['lost']}, duplicates "
                  f"{rem['duplicates']} / {loc['duplicates']} of {rem['expected']:,} / {loc['expected']:,})",
        "target": target,
        "pass": bool(complete and dropped == 0 and extra <= REDIS_EXTRA_P99_TARGET_MS),
    }


def plot(data, png, plt):
    s = data["summary"]
    bare, server, redis = s.get("bare"), s.get("server"), s.get("redis")
    fanout = bool(bare and server)
    cross = bool(redis and redis.get("local") and redis.get("remote"))
    points = [p for p in s.get("cpu_points") or [] if p["server_us"] is not None]
    if not (fanout or cross or points):
        raise ValueError("no fan-out, Redis or CPU runs to plot")
    n = 2 * fanout + cross + bool(points)
    fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 4.2), squeeze=False)
    axes = list(axes[0])
    who = f", fan-out to {server['connections']:,} members" if fanout else ""
    fig.suptitle(f"Real-time — {data['generated_at']}, commit {data['git']['short']}, "
                 f"{data['machine']['nproc']} cores{who}", fontsize=11)
    qs = ["p50_ms", "p90_ms", "p99_ms", "max_ms"]
    x = list(range(len(qs)))
    w = 0.38

    def latency_bars(ax, pairs, title):
        for (label, lat, color), dx in zip(pairs, (-w / 2, w / 2)):
            b = ax.bar([i + dx for i in x], [lat[q] for q in qs], w, label=label, color=color)
            ax.bar_label(b, fmt="{:.1f}", fontsize=7)
        ax.set_xticks(x, [q.replace("_ms", "") for q in qs])
        ax.set_ylabel("delivery latency, ms")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)

    if fanout:
        ax = axes.pop(0)
        b = ax.bar(["bare loop", "server"], [bare["deliveries_per_s"], server["deliveries_per_s"]],
                   color=["#9aa5b1", "#2f6db5"])
        ax.bar_label(b, fmt="{:,.0f}", fontsize=8)
        ax.set_ylabel("deliveries / s")
        ax.set_title("Throughput", fontsize=10)
        lb, ls = (s["bare_latency"], s["server_latency"]) if s.get("bare_latency") and s.get("server_latency") \
            else (bare, server)
        latency_bars(axes.pop(0), [("bare loop", lb["latency"], "#9aa5b1"),
                                   ("server", ls["latency"], "#2f6db5")],
                     f"Latency at {ls['rate_target']:g} msg/s (send → receipt at each member)")
    if cross:
        latency_bars(axes.pop(0), [("receivers on the senders' instance", redis["local"]["latency"], "#2f6db5"),
                                   ("receivers on the other (Redis)", redis["remote"]["latency"], "#d9822b")],
                     f"Two instances through Redis: {redis['connections']:,} members, "
                     f"{redis['rate_target']:g} msg/s")
    if points:
        ax = axes.pop(0)
        xs = list(range(len(points)))
        for key, label, color, dx in (("server_us", "server", "#2f6db5", w / 2),
                                      ("bare_us", "bare loop (own process)", "#9aa5b1", -w / 2)):
            b = ax.bar([i + dx for i in xs], [p[key] or 0 for p in points], w, label=label, color=color)
            ax.bar_label(b, fmt="{:.1f}", fontsize=7)
        ax.axhline(CPU_PER_DELIVERY_TARGET_US, color="#c0392b", linestyle="--", linewidth=1, label="target")
        ax.set_xticks(xs, [f"{p['members']}×{p['rate']:g}" for p in points], fontsize=8)
        ax.set_ylabel("CPU µs per delivery")
        ax.set_title("CPU per delivery (members × msg/s)", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(png, dpi=110)


def _redis_markdown(redis, meta):
    """The Redis part: both sides of the run and what exactly is measured."""
    rm = meta.get("redis_path") if isinstance(meta.get("redis_path"), dict) else {}
    rows = []
    for side, name in (("local", "A: the senders' instance"), ("remote", "B: the other, via Redis")):
        g = redis[side]
        lat = g["latency"]
        rows.append([name, f"{g['members']:,}", f"{g['delivered']:,}", f"{g['expected']:,}", g["lost"],
                     g["duplicates"], f"{lat['p50_ms']:.2f}", f"{lat['p90_ms']:.2f}", f"{lat['p99_ms']:.2f}",
                     f"{lat['p999_ms']:.2f}", f"{lat['max_ms']:.2f}"])
    ps = redis.get("pubsub", {})
    a, b = ps.get("a", {}), ps.get("b", {})
    busy = rm.get("cpu_busy_before_pct")
    return [
        f"Redis path (two instances): {redis['connections']:,} members of one room on instances A and B: "
        f"{redis['senders']} senders, all on A, sending {redis['rate_target']:g} chat msg/s in total for "
        f"{redis['duration_s']:g} s, and the other members (receivers) split evenly over A and B "
        f"({redis['acked']:,} messages acknowledged; over all members, senders included, {redis['lost']} lost and "
        f"{redis['duplicates']} duplicates of {redis['expected']:,}; both server processes used "
        f"{redis.get('cpu_cores', {}).get('server', '?')} cores on average over the run, set-up included).",
        "",
        md_table(["receivers on", "receivers", "delivered", "expected", "lost", "dups", "p50 ms", "p90 ms", "p99 ms",
                  "p99.9 ms", "max ms"], rows),
        "",
        "What is measured: two more `luojia serve` processes on this machine share one database (a SQLite "
        "file in A's data dir that B opens by URL; during the measurement only A writes to it, the chat "
        f"rows), one Redis{(' ' + rm['redis_version']) if rm.get('redis_version') else ''} "
        f"({rm.get('redis', 'local')}) under a fresh key prefix that is deleted afterwards, and one JWT "
        "secret, so the accounts registered and the room created through A work on B. Every chat goes the "
        "same way up to A's hub: the sender's session stores it, acknowledges it and hands the serialized "
        "frame to A's hub task. The hub first queues a copy for A's pub/sub publisher (a non-blocking "
        "`try_send` into a bounded queue), then offers the frame to the outbound queue of each of A's "
        "connections in the room: at A's receivers, that is the *local* latency. A's publisher task "
        "takes whatever has queued (up to 256 envelopes), stamps each with A's instance id and sends them as "
        "one pipelined batch of `PUBLISH`es to the channel `<prefix>rt` on a pooled connection. B's "
        "subscriber task (a dedicated `SUBSCRIBE` connection) decodes each envelope, skips its own, and passes "
        "it to B's hub, which parses the frame (to keep its view of remote members' presence current) and "
        "offers it to B's connections only: that is the *remote* latency. Latency is receipt time minus the "
        "send time carried in the chat text, at every receiver; both sides come from the same messages in "
        "the same run, so storing the chat and A's load are in both, and remote p99 minus local p99 is what "
        "the Redis hop adds (the publish batch, Redis, B's subscription and hub). The senders are in neither "
        "side (their loss and duplicates are in the totals above): a sender's session also handles its own "
        "chats, storing each one, which can hold back the frames queued for it, a delay only the local side "
        "would carry. Both instances, Redis and the "
        "load generator share the machine's cores, and A does more work than B (it stores every chat and "
        "serves the senders), so scheduling noise is in both sides; over a short run the difference can "
        "even come out negative. Loss and duplicates: every member must receive every acknowledged `seq` "
        "exactly once; the row also requires no envelope dropped on the way to Redis. Pub/sub envelopes over "
        f"the run (presence included; A's published count also has its own probe every 2 s): A published {a.get('published', '?')}, dropped "
        f"{a.get('dropped', '?')}; B received {b.get('received', '?')}, dropped {b.get('dropped', '?')}; "
        f"re-subscriptions {a.get('resubscribes', 0) + b.get('resubscribes', 0) if a and b else '?'}"
        + (f". The machine was {busy}% busy just before this part." if busy is not None else "."),
        "",
    ]


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
    for name in ("bare", "server", "bare_latency", "server_latency", "sync"):
        r = s.get(name)
        if not r:
            continue
        lat = r["latency"]
        rate = f"{r['rate_target']:g}" if "rate_target" in r else "—"
        label = {"bare": "bare loop", "bare_latency": "bare loop (latency run)",
                 "server_latency": "server (latency run)"}.get(name, name)
        rows.append([label, rate,
                     f"{r['connections']:,}", f"{r.get('deliveries_per_s', 0):,.0f}",
                     f"{r['delivered']:,}", f"{r['expected']:,}", r["lost"], r.get("duplicates", "—"),
                     r.get("errors", 0), f"{lat['p50_ms']:.2f}", f"{lat['p90_ms']:.2f}", f"{lat['p99_ms']:.2f}",
                     f"{lat['max_ms']:.2f}", r.get("cpu_cores", {}).get("server", "—")])
    if rows:
        out += [md_table(["run", "msg/s", "members", "deliveries/s", "delivered", "expected", "lost", "dups", "errors",
                          "p50 ms", "p90 ms", "p99 ms", "max ms", "server cores"], rows), ""]
    redis = s.get("redis")
    if redis and redis.get("local") and redis.get("remote"):
        out += _redis_markdown(redis, meta)
    out += _core_markdown(data)
    idle = s.get("idle")
    if idle:
        out += [f"Idle: {idle['connections_open']:,} of {idle['connections_requested']:,} connections opened "
                f"({idle['connect_failures']} failed) over {idle['users']:,} users; server VmRSS "
                f"{idle['server_rss_before_kib']:,} → "
                + (f"{idle['server_rss_warm_kib']:,} (one connection per user) → " if idle.get("warm_connections") else "")
                + f"{idle['server_rss_after_kib']:,} KiB.", ""]
    if png_rel:
        out += [f"![realtime]({png_rel})", ""]
    return "\n".join(out)


def _fmt(v, spec=".2f", none="—"):
    return none if v is None else format(v, spec)


def _core_markdown(data):
    """Tables for issue 9's measurements, and the numbers before the new core."""
    s, meta, runs = data["summary"], data["meta"], data["runs"]
    out = []
    points = s.get("cpu_points") or []
    if points:
        out += [
            f"CPU per delivery: one room, {meta.get('cpu_senders', '?')} senders (more where the per-connection "
            f"limit needs it), {meta.get('cpu_duration_s', '?')} s of sending per point; CPU is utime+stime of the "
            "broadcasting process from `/proc/<pid>/stat` from the first send to the end of the drain (set-up "
            "excluded, 10 ms clock ticks). The bare loop runs as its own process (`luojia-loadgen bare-server`) "
            "driven by the same client in the same run, so its figure holds only the loop's CPU. Ack is send → "
            "`chat_ack` at the senders; out of order counts chats whose `seq` is lower than one the member already "
            "had.",
            "",
            md_table(["members × msg/s", "deliveries/s", "server µs/delivery", "bare µs/delivery", "ratio",
                      "server CPU s", "delivered / expected", "lost", "dups", "out of order", "p99 ms (bare)",
                      "ack p99 ms"],
                     [[f"{p['members']:,} × {p['rate']:g}", f"{p['deliveries_per_s']:,.0f}", _fmt(p["server_us"]),
                       _fmt(p["bare_us"]),
                       _fmt(p["server_us"] / p["bare_us"] if p["server_us"] and p["bare_us"] else None, ".1f"),
                       _fmt(p["server_cpu_s"]), f"{p['delivered']:,} / {p['expected']:,}", p["lost"],
                       p["duplicates"], p["out_of_order"],
                       f"{p['p99_ms']:.1f} ({_fmt(p['bare_p99_ms'], '.1f')})", _fmt(p["ack_p99_ms"], ".1f")]
                      for p in points]),
            "",
        ]
    sat = [r for r in runs if r.get("label") in ("sat-bare", "sat-server", "sat-server-80")]
    if sat:
        rows = []
        for r in sat:
            for st in _steps(r):
                lat = st["latency"]
                rows.append([r["label"], f"{st['rate_target']:g}", st["senders"], f"{st['offered_deliveries_per_s']:,.0f}",
                             f"{st['deliveries_per_s']:,.0f}", f"{st['delivered_ratio']:.3f}",
                             f"{st['acked']:,}/{st['sent']:,}", f"{lat['p50_ms']:.1f}", f"{lat['p99_ms']:.1f}",
                             _fmt(st.get("cpu_us_per_delivery")), st.get("out_of_order", "—"),
                             st.get("closed_early", 0), "behind" if st.get("behind") else "kept up"])
        out += [
            f"Saturation: {meta.get('sat_members', '?')} members, the rate raised step by step "
            f"({meta.get('sat_duration_s', '?')} s per step on the same connections) until a step falls behind: "
            f"delivered/expected or acked/sent below 0.99, or delivery p99 above {meta.get('sat_p99_bound_ms', '?')} ms. "
            "Capacity is the highest deliveries/s of a step that kept up; the client shares the machine with the "
            "server, so both capacities include the client's cost, and the steps double, so a capacity is known to "
            "within a factor 2.",
            "",
            md_table(["run", "msg/s", "senders", "offered/s", "deliveries/s", "delivered", "acked/sent", "p50 ms",
                      "p99 ms", "µs CPU/delivery", "out of order", "closed", ""], rows),
            "",
        ]
    rooms = s.get("rooms") or []
    if rooms:
        out += [
            "Room joins and memory: a fresh server per size; the members register and become room members over "
            "REST, connect (baseline), then all send `join` at once, then `leave`, then disconnect; VmRSS after "
            "each stage (3 s of settling).",
            "",
            md_table(["members", "joined", "first → last joined s", "VmRSS start", "connected", "joined", "left",
                      "disconnected", "KiB/member (room)", "KiB/member (with connection)", "left vs connected",
                      "disconnected vs start"],
                     [[f"{r['connections']:,}", f"{r['joined']:,}", f"{r['join_s']:.2f}",
                       f"{r['rss_start_kib']:,}", f"{r['rss_connected_kib']:,}", f"{r['rss_joined_kib']:,}",
                       f"{r['rss_left_kib']:,}", f"{r['rss_disconnected_kib']:,}", f"{r['kib_per_member']:.1f}",
                       f"{r['kib_per_member_with_connection']:.1f}", f"{r['left_over_connected_pct']:+.1f} %",
                       f"{r['disconnected_over_start_pct']:+.1f} %"] for r in rooms]),
            "",
        ]
    for note in data.get("notes", []):
        out += [f"Note: {note}", ""]
    wall = sum(r.get("wall_s", 0) for r in runs)
    out += [f"Run time: the load generator ran {wall / 60:.0f} min in all (server start-ups and waits for an idle "
            "machine come on top). `BENCH_RT_SKIP` leaves parts out (fanout sync idle redis cpu room saturation "
            "mariadb burst) and every part has knobs for its size and duration: see the header of "
            "`scripts/bench/realtime.sh`." + (f" Skipped in this run: {meta['skipped']}." if meta.get("skipped") else ""),
            ""]
    before = _before(data)
    if before:
        out += _before_markdown(before, data)
    return out


def _before(data):
    """The measurements before the new core, if present and not this very run."""
    try:
        before = json.loads(BEFORE_FILE.read_text())
    except (OSError, ValueError):
        return None
    if before.get("git", {}).get("commit") == data.get("git", {}).get("commit") and \
            before.get("generated_at") == data.get("generated_at"):
        return None
    return before


def _before_markdown(before, data):
    """The headline rows of issue 9 side by side: before the new core and now."""
    new = {r["measurement"]: r for r in data["summary"]["headline"]}
    rows = []
    for r in before["summary"]["headline"]:
        now = new.get(r["measurement"])
        rows.append([r["measurement"], r["result"], now["result"] if now else "not measured",
                     r["target"], status_cell(now.get("pass")) if now else "—"])
    g = before.get("git", {})
    return [
        f"Before the ordered realtime core (`docs/bench/realtime-before-core.json`, measured "
        f"{before.get('generated_at', '?')} at commit `{g.get('short', '?')}`) and now; the machine is shared, so "
        "compare the ratios and same-run numbers rather than absolute ones"
        + "".join(f" ({n})" for n in before.get("notes", [])) + ":",
        "",
        md_table(["Measurement", "Before", "Now", "Target", "Now"], rows),
        "",
    ]
