"""Section "messages": direct messages between friends at scale: send → delivery latency,
lost and duplicated messages, on one instance and across two through Redis."""

from __future__ import annotations

from report import md_table

TITLE = "Direct messages: 1,000 pairs chatting at once"
ORDER = 55
NAMES = {"one": "one instance", "two": "two instances (Redis)"}


def summarize(runs, meta):
    rows = []
    headline = []
    for r in runs:
        lat = r.get("latency") or {}
        name = NAMES.get(r["label"], r["label"])
        rows.append({
            "label": r["label"],
            "setup": name,
            "pairs": r.get("pairs"),
            "acknowledged": r.get("acknowledged"),
            "delivered": r.get("delivered"),
            "lost": r.get("lost"),
            "duplicated": r.get("duplicated"),
            "errors": r.get("errors"),
            "p50_ms": lat.get("p50_ms"),
            "p99_ms": lat.get("p99_ms"),
            "max_ms": lat.get("max_ms"),
            "messages_per_s": (r.get("acknowledged") or 0) / max(r.get("duration_s") or 1, 1),
            "server_cpu_cores": r.get("server_cpu_cores"),
        })
        headline.append({
            "measurement": f"{name}: send → delivered p50 / p99",
            "result": f"{lat.get('p50_ms', 0):.1f} / {lat.get('p99_ms', 0):.1f} ms",
            "target": "reported",
            "pass": None,
        })
        headline.append({
            "measurement": f"{name}: lost / duplicated of {r.get('acknowledged', 0):,} acknowledged",
            "result": f"{r.get('lost')} / {r.get('duplicated')}",
            "target": "0 / 0",
            "pass": r.get("lost") == 0 and r.get("duplicated") == 0,
        })
    return {"headline": headline, "rows": rows}


def markdown(data, png_rel):
    meta = data.get("meta", {})
    s = data["summary"]
    table = md_table(
        ["setup", "messages acknowledged", "delivered", "lost", "duplicated", "p50", "p99", "max", "server CPU"],
        [[r["setup"], f"{r['acknowledged']:,}", f"{r['delivered']:,}", r["lost"], r["duplicated"],
          f"{r['p50_ms']:.1f} ms", f"{r['p99_ms']:.1f} ms", f"{r['max_ms']:.1f} ms",
          f"{r['server_cpu_cores']:.2f} cores"] for r in s["rows"]],
    )
    return (
        f"{meta.get('pairs', 1000):,} pairs of friends, each with their direct conversation, all "
        f"connected at once; every person sends {meta.get('rate_per_person')} messages/s to their "
        f"partner over the socket for {meta.get('duration_s')} s (about "
        f"{2 * meta.get('pairs', 1000) * meta.get('rate_per_person', 0):,.0f} messages/s in all). "
        "Latency is from the sender's clock at sending to the partner's socket receiving the "
        "`message` frame (same machine, same clock). Lost: acknowledged messages the partner "
        "never received; duplicated: a message a connection received twice. On two instances the "
        "two people of each pair are on different instances, so every message crosses Redis. "
        f"Embedded SQLite ({meta.get('server_binary', 'release')} build), bcrypt cost "
        f"{meta.get('bcrypt_cost')} for the set-up only, load generator on the same 2 cores.\n\n"
        + table + "\n"
    )
