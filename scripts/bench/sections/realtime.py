"""Section "realtime": WebSocket chat fan-out vs a bare broadcast loop, seek latency,
server memory per idle connection, and chat delivery across two instances through Redis
(scripts/bench/realtime.sh, tools/loadgen)."""

from __future__ import annotations

from report import measured_line, md_table, status_cell

TITLE = "Real-time: chat fan-out, seek latency, memory per connection, two instances"
ORDER = 30
THROUGHPUT_RATIO_TARGET = 0.5
P99_RATIO_TARGET = 2.0
SEEK_P99_TARGET_MS = 10.0
KIB_PER_CONN_TARGET = 16.0
REDIS_EXTRA_P99_TARGET_MS = 3.0


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
        headline.append({
            "measurement": f"Server memory per idle authenticated connection (VmRSS growth over "
                           f"{idle['connections_open']:,} connections)",
            "result": f"**{k:.1f} KiB**",
            "target": f"≤ {KIB_PER_CONN_TARGET:g} KiB",
            "pass": bool(idle["connections_open"] > 0 and k <= KIB_PER_CONN_TARGET),
        })
    headline.append(_redis_row(redis, out))
    out["headline"] = headline
    return out


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
    if not (fanout or cross):
        raise ValueError("no fan-out or Redis runs to plot")
    n = 2 * fanout + cross
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
    idle = s.get("idle")
    if idle:
        out += [f"Idle: {idle['connections_open']:,} of {idle['connections_requested']:,} connections opened "
                f"({idle['connect_failures']} failed) over {idle['users']:,} users; server VmRSS "
                f"{idle['server_rss_before_kib']:,} → {idle['server_rss_after_kib']:,} KiB.", ""]
    if png_rel:
        out += [f"![realtime]({png_rel})", ""]
    return "\n".join(out)
