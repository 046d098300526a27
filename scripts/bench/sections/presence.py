"""Section "presence": friend_presence frames when a user with many friends connects and leaves."""

from __future__ import annotations

from report import measured_line, md_table, status_cell

TITLE = "Friends' presence: frames per connect and disconnect"
ORDER = 45


def summarize(runs, meta):
    headline = []
    for r in runs:
        online = r["online_friends"]
        c, d = r["connect"], r["disconnect"]
        ok = (c["frames"] == online and d["frames"] == online
              and r["connections_with_repeats"] == 0 and r["other_frames"] == 0)
        where = "one instance, in-process presence" if r["label"] == "embedded" else "one instance, presence in Redis"
        headline.append({
            "measurement": f"A user with {r['friends']} friends ({online} online) connects, then disconnects ({where}): "
                           "friend_presence frames received by the friends' connections",
            "result": f"**{c['frames']} / {d['frames']}** frames ({c['bytes']:,} / {d['bytes']:,} bytes; "
                      f"last one {c['ms_to_last']:.1f} / {d['ms_to_last']:.1f} ms after; "
                      f"{r['connections_with_repeats']} connections got one twice, {r['other_frames']} other frames)",
            "target": f"exactly {online} each way",
            "pass": ok,
        })
    return {"headline": headline}


def markdown(data, png_rel):
    s, meta = data["summary"], data["meta"]
    rows = [[r["measurement"], r["result"], r["target"], status_cell(r.get("pass"))] for r in s["headline"]]
    return "\n".join([
        measured_line(data),
        "",
        "`bash scripts/bench.sh presence` (about 15 s): `luojia-loadgen presence` registers the user and "
        f"{meta.get('friends')} friends (each asks, the user accepts), connects {meta.get('online')} of the "
        "friends (one connection each), then connects the user once and closes that connection. "
        "Presence is sent only to friends who are online, once per connection of theirs: the other "
        f"{int(meta.get('friends', 0)) - int(meta.get('online', 0))} friends cost nothing, and neither do strangers. "
        "Each frame is `{\"type\":\"friend_presence\",\"user_id\":…,\"online\":…,\"last_seen\":…}` "
        "(70 bytes online, 99 offline with the time). The counts do not depend on the build; the times do "
        + ("(this run used a **debug** server build)." if "debug" in str(meta.get("server_bin", "")) else "(release build)."),
        "",
        md_table(["Measurement", "Result", "Target", "Status"], rows),
    ])
