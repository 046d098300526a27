"""Section "watch": watch together in real browsers (issue 13). Chromium pages in one room
through nginx + two instances + Redis; drift between pages and each page's error against the
room's timeline, from the frames on screen; seek convergence; landing after a reconnect."""

from __future__ import annotations

from report import measured_line, md_table, status_cell

TITLE = "Watch together in real browsers"
ORDER = 65
DRIFT_P95_MS = 17
DRIFT_MAX_MS = 34
TIMELINE_P95_MS = 20
SEEK_MS = 400


def _steady(runs, scenario):
    return next((r for r in runs if r["label"] == "steady" and r["scenario"] == scenario), None)


def _fmt(s):
    if not s or s.get("p50") is None:
        return "—"
    return f"{s['p50']:.1f} / {s['p95']:.1f} / {s['max']:.1f} ms"


def _drift_row(r, what):
    d = r["drift"] if r.get("special") is None else r["drift_special"]
    return {
        "measurement": what,
        "result": f"**p50 {d['p50']:.1f}, p95 {d['p95']:.1f}, max {d['max']:.1f} ms** ({d['n']} frame pairs, {r['measured_s']} s)",
        "target": f"p95 ≤ {DRIFT_P95_MS} ms, max ≤ {DRIFT_MAX_MS} ms",
        "pass": d["p95"] <= DRIFT_P95_MS and d["max"] <= DRIFT_MAX_MS,
    }


def _timeline_row(r, what, pages=None):
    idx = range(len(r["timeline"])) if pages is None else pages
    worst = max((r["timeline"][i] for i in idx), key=lambda s: s["p95"])
    return {
        "measurement": what,
        "result": f"**worst page p95 {worst['p95']:.1f} ms** (its p50 {worst['p50']:.1f}, max {worst['max']:.1f}); "
                  "all pages p95 " + ", ".join(f"{r['timeline'][i]['p95']:.1f}" for i in idx) + " ms",
        "target": f"p95 ≤ {TIMELINE_P95_MS} ms",
        "pass": worst["p95"] <= TIMELINE_P95_MS,
    }


def _seeks_by_pages(runs):
    """The seek trials grouped by how many pages took part (fewest first); runs from before
    the two-page phase carry no count and had five."""
    seeks = [r for r in runs if r["label"] == "seek"]
    return [(n, [r for r in seeks if r.get("pages", 5) == n]) for n in sorted({r.get("pages", 5) for r in seeks})]


def summarize(runs, meta):
    h = []
    two, five = _steady(runs, "2 pages"), _steady(runs, "5 pages")
    cpu = next((r for r in runs if r["label"] == "steady" and "CPU" in r["scenario"]), None)
    proxy = next((r for r in runs if r["label"] == "steady" and "proxy" in r["scenario"]), None)
    if two:
        h.append(_drift_row(two, "Drift between 2 pages (steady playback)"))
        h.append(_timeline_row(two, "Each page against the room's timeline, 2 pages"))
    if five:
        h.append(_drift_row(five, "Drift between 5 pages (all 10 pairs)"))
        h.append(_timeline_row(five, "Each page against the room's timeline, 5 pages"))
    if cpu:
        h.append(_drift_row(cpu, "Drift, 5 pages, one under 4× CPU throttling (pairs with that page)"))
        h.append(_timeline_row(cpu, "The 4×-throttled page against the timeline", [cpu["special"]]))
    if proxy:
        h.append(_drift_row(proxy, "Drift, 5 pages, one behind a 75 ms each-way delay proxy (pairs with that page)"))
        h.append(_timeline_row(proxy, "The delayed page against the timeline", [proxy["special"]]))
    for pages, seeks in _seeks_by_pages(runs):
        ms = sorted(r["converge_ms"] for r in seeks if r["converge_ms"] is not None)
        missed = sum(1 for r in seeks if r["converge_ms"] is None)
        result = (f"**p50 {ms[len(ms) // 2]} ms, max {ms[-1]} ms** ({len(seeks)} seeks, {pages} pages)" if ms else "**never**")
        if missed:
            result += f"; {missed} not within 3 s"
        h.append({
            "measurement": f"Host seek → every page playing within 100 ms of the others for 1 s, {pages} pages",
            "result": result,
            "target": f"≤ {SEEK_MS} ms",
            "pass": bool(ms) and not missed and ms[-1] <= SEEK_MS,
        })
    recs = [r for r in runs if r["label"] == "reconnect"]
    if recs:
        land = [r["land_ms"] for r in recs if r["land_ms"] is not None]
        errs = [r["landing"]["p50"] for r in recs if r["landing"]["p50"] is not None]
        h.append({
            "measurement": "Reconnect after 5 s offline (the host seeked meanwhile): back online → within 100 ms "
                           "of the others; its error in its first second on the new position (p50 per round)",
            "result": f"**{', '.join(str(x) for x in land) or '—'} ms; {', '.join(f'{e:.1f}' for e in errs) or '—'} ms**",
            "target": "reported",
            "pass": None,
        })
    return {"headline": h}


def markdown(data, png_rel):
    s = data["summary"]
    meta = data.get("meta", {})
    runs = data.get("runs", [])
    parts = [measured_line(data), ""]
    parts.append(
        f"`scripts/bench/watch.sh` → `scripts/bench/lib/watch-sync.mjs`: {meta.get('chromium', 'Chromium')} "
        "(headless, Playwright, one browser, a context per member at 960×600, autoplay allowed) opens the "
        "built web app through **nginx** (the repository's `nginx.conf` rendered by `luojia nginx-conf`) in "
        f"front of **two `luojia serve` instances** ({meta.get('server_build', 'release')} build) that share "
        f"one SQLite data dir and **Redis** {meta.get('redis', '')} (a fresh key prefix per run); the host's page "
        "is on one instance and the others alternate (each page is reloaded until `/internal/stats` shows its "
        "socket on the wanted instance). The movie is the tests' 854×480 25 fps HLS clip. Every window of "
        f"steady playback is {meta.get('measure_s', 60)} s and starts 3 s after the last play or seek."
    )
    parts += ["", (
        "**How drift is measured.** The app's sync binding logs every presented frame "
        "(`requestVideoFrameCallback`): its `mediaTime` and the instant it is shown, "
        "`performance.timeOrigin + expectedDisplayTime`, on the machine's wall clock. The server runs on the "
        "same machine, so server time *is* that clock: each frame's error is `mediaTime − expected(t)` with "
        "`expected(t) = position_ms + (t − anchor_time) × rate` and the true offset 0 (the page's own offset "
        "estimate, logged with the frame, is undone; so an offset the page got wrong counts against it). The "
        "drift between two pages is the difference of their errors for frames shown at most 20 ms apart: both "
        "are measured against the same timeline, so it is their position difference mapped to one instant. "
        "**The measurement's own floor:** a frame's display time is known to one screen refresh (16.7 ms at "
        "60 Hz), and a 25 fps frame stays on screen for 40 ms, shown at whichever refresh comes first; two "
        "perfectly synchronised pages can therefore differ by one refresh for the frames where their vsync "
        "choices differ, which is why p95 values of 16.7 ms appear. Values below ~17 ms are at the floor. "
        f"The machine (2 cores) is shared with other engineers' builds and browser tests: load average "
        f"{meta.get('load_before', '?')} before and {meta.get('load_after', '?')} after the run, with five "
        "pages decoding video besides; its speed varies from day to day: a fixed single-threaded JavaScript "
        f"loop (3·10⁸ iterations, `scripts/bench/watch.sh`) took {meta.get('calibration_ms', '?')} ms before "
        "this run. The same seeks are measured with two pages and with five: two show what the engine does, "
        "five what two cores shared by five renderers allow."
    ), ""]
    parts.append(md_table(
        ["Measurement", "Result", "Target", "Status"],
        [[r["measurement"], r["result"], r["target"], status_cell(r.get("pass"))] for r in s.get("headline", [])],
    ))
    steady = [r for r in runs if r["label"] == "steady"]
    if steady:
        parts += ["", "Per page, against the room's timeline (p50 / p95 / max of |error|; page 0 is the host; "
                      "*special* is the throttled or delayed page):", ""]
        rows = []
        for r in steady:
            for i, t in enumerate(r["timeline"]):
                e = r["engines"][i] if i < len(r.get("engines", [])) else {}
                rows.append([r["scenario"], f"{i}{' (special)' if r.get('special') == i else ''}", t["n"], _fmt(t),
                             f"{e.get('startDelayMs', 0):.0f} ms", f"{e.get('rtt', 0):.1f} ms", f"{e.get('offset', 0):+.1f} ms"])
        parts.append(md_table(["Window", "Page", "Frames", "Error p50 / p95 / max", "Measured start delay",
                               "Clock rtt", "Offset estimate (true: 0)"], rows))
    for pages, seeks in _seeks_by_pages(runs):
        parts += ["", f"Host seeks with {pages} pages (+10 s and −10 s alternately, clicked in the host's page; the "
                      "protocol schedules them 300 ms ahead): " + ", ".join(f"{r['converge_ms']} ms" if r["converge_ms"] is not None
                                                                             else "not within 3 s" for r in seeks) + "."]
    parts += ["", (
        "What these numbers say about the sync engine, and what was changed because of them (landing "
        "by a scheduled start instead of a seek into moving time, catching up a late start by a short "
        "rate burst, starting at once after a seek that overran, early clock bursts, and a page that "
        "costs a third of the main thread it did), is in `docs/realtime.md`, \"What the browser client "
        "does\". Targets missed here: the five-page maxima are single frames shown two or three refreshes "
        "late; seek convergence with five pages is bounded by the machine, not the engine: the same seeks "
        "with two pages converge within the target, and with five the pages' main threads are starved (in a "
        "trace of one page after a seek, its tasks spanned 1,449 ms of the 1,500 ms but used 143 ms of CPU; "
        "one 242 ms task ran 12 ms), so their play() timers fire late, seeks take 300–650 ms and the starts "
        "land hundreds of ms apart (traces with `WATCH_DEBUG=1`, `WATCH_TRACE=<page>`). Commands reach "
        "every page 3–50 ms after the click."
    )]
    if png_rel:
        parts += ["", f"![{data.get('title')}]({png_rel})"]
    return "\n".join(parts)
