"""Section "catalog": the first catalog page against the empty route, its latency at a fixed
rate, HLS segment throughput through nginx, and ingest speed."""

from __future__ import annotations

from report import measured_line, md_table, median, status_cell

TITLE = "Catalog: first page, segments through nginx, ingest"
ORDER = 20
RATIO_TARGET = 0.7
P99_TARGET_MS = 5.0
# The fixed-rate run counts only if the load generator really sent (nearly) that rate.
RATE_SHORTFALL = 0.98


def _route(runs, label):
    rs = sorted((r for r in runs if r["label"] == label), key=lambda r: r["round"])
    return {
        "rounds": [r["round"] for r in rs],
        "rps": [r["rps"] for r in rs],
        "mb_per_s": [r["bytes"] / r["duration_s"] / 1e6 for r in rs],
        "p50_ms": [r["latency_us"]["p50"] / 1000 for r in rs],
        "p99_ms": [r["latency_us"]["p99"] / 1000 for r in rs],
        "requests": sum(r["requests"] for r in rs),
        "non_2xx": sum(r["errors"]["status"] for r in rs),
        "socket_errors": sum(r["errors"][k] for r in rs for k in ("connect", "read", "write", "timeout")),
        "median_rps": median(r["rps"] for r in rs),
        "median_mb_per_s": median(r["bytes"] / r["duration_s"] / 1e6 for r in rs),
        "median_p50_ms": median(r["latency_us"]["p50"] / 1000 for r in rs),
        "median_p99_ms": median(r["latency_us"]["p99"] / 1000 for r in rs),
        "server_cores": [r.get("cpu_cores", {}).get("server") for r in rs],
        "wrk_cores": [r.get("cpu_cores", {}).get("wrk") for r in rs],
        "other_cores": [r.get("cpu_cores", {}).get("other") for r in rs],
    }


def _fixed(runs, label):
    r = next((r for r in runs if r["label"] == label and r.get("kind") == "oha"), None)
    if r is None:
        return None
    lat = {k: (v / 1000 if v is not None else None) for k, v in r["latency_us"].items()}
    ok = (r["errors"]["status"] == 0 and r["errors"]["socket"] == 0
          and r["ok_rps"] >= RATE_SHORTFALL * r["target_rate"])
    return {
        "target_rate": r["target_rate"],
        "achieved_rps": r["rps"],
        "ok_rps": r["ok_rps"],
        "requests": r["requests"],
        "duration_s": r["duration_s"],
        "non_2xx": r["errors"]["status"],
        "socket_errors": r["errors"]["socket"],
        "errors_by_kind": r["errors"].get("by_kind", {}),
        "aborted_at_deadline": r.get("aborted_at_deadline", 0),
        "latency_ms": lat,
        "rate_held": ok,
        "cpu_cores": r.get("cpu_cores"),
    }


def summarize(runs, meta):
    healthz, movies, admin = (_route(runs, l) for l in ("healthz", "movies", "movies-admin"))
    seg_nginx, seg_backend = _route(runs, "seg-nginx"), _route(runs, "seg-backend")
    ratio = movies["median_rps"] / healthz["median_rps"] if healthz["median_rps"] and movies["median_rps"] else None
    admin_ratio = admin["median_rps"] / healthz["median_rps"] if healthz["median_rps"] and admin["median_rps"] else None
    round_ratios = [m / h for h, m in zip(healthz["rps"], movies["rps"]) if h]
    admin_round_ratios = [m / h for h, m in zip(healthz["rps"], admin["rps"]) if h]
    movies_valid = movies["non_2xx"] == 0 and movies["socket_errors"] == 0 and movies["requests"] > 0
    fixed = {k: _fixed(runs, f"fixed-{k}") for k in ("healthz", "movies", "movies-admin")}
    ingest = next((r for r in runs if r.get("kind") == "ingest"), None)
    seg = meta.get("segment", {})
    rate = meta.get("rate", 10000)

    headline = []
    if ratio is not None:
        headline.append({
            "measurement": "GET /api/v1/movies first page (anonymous: served from the 5 s page cache), "
                           "req/s as a ratio to the empty route (GET /healthz), same server and run",
            "result": f"**{ratio:.2f}** ({movies['median_rps']:,.0f} / {healthz['median_rps']:,.0f} req/s)"
                      + ("" if movies_valid else f"; {movies['non_2xx']} non-2xx answers, "
                                                 f"{movies['socket_errors']} socket errors: not valid"),
            "target": f"≥ {RATIO_TARGET}",
            "pass": bool(movies_valid and ratio >= RATIO_TARGET),
        })
    fm = fixed.get("movies")
    if fm:
        lat = fm["latency_ms"]
        headline.append({
            "measurement": f"GET /api/v1/movies first page (anonymous), p99 latency at a fixed {rate:,.0f} req/s "
                           "(open loop, oha, corrected for coordinated omission)",
            "result": f"**p99 {lat['p99']:.2f} ms** (p50 {lat['p50']:.2f}, max {lat['max']:.1f} ms; "
                      f"{fm['ok_rps']:,.0f} req/s answered 2xx, {fm['non_2xx'] + fm['socket_errors']} errors)",
            "target": f"p99 < {P99_TARGET_MS:g} ms at {rate:,.0f} req/s",
            "pass": bool(fm["rate_held"] and lat["p99"] < P99_TARGET_MS),
        })
    if admin_ratio is not None:
        fa = fixed.get("movies-admin")
        headline.append({
            "measurement": "GET /api/v1/movies first page as an admin (page cache bypassed: the query runs every time)",
            "result": f"**{admin['median_rps']:,.0f} req/s** (ratio {admin_ratio:.2f} to the empty route)"
                      + (f"; at a fixed {fa['target_rate']:,.0f} req/s: p99 {fa['latency_ms']['p99']:.2f} ms "
                         f"({fa['ok_rps']:,.0f} req/s answered)" if fa else ""),
            "target": "reported",
            "pass": None,
        })
    if seg_nginx["median_rps"]:
        headline.append({
            "measurement": f"HLS segment ({seg.get('bytes', 0) / 1e6:.2f} MB .ts of the "
                           f"{seg.get('variant', '?').split('/')[0]} rendition) through nginx "
                           "(auth_request grant check, cached 30 s)",
            "result": f"**{seg_nginx['median_mb_per_s']:,.0f} MB/s** ({seg_nginx['median_rps']:,.0f} req/s); "
                      f"backend directly: {seg_backend['median_mb_per_s']:,.0f} MB/s "
                      f"({seg_backend['median_rps']:,.0f} req/s)",
            "target": "reported",
            "pass": None,
        })
    if ingest:
        headline.append({
            "measurement": f"Ingest of a synthetic {ingest['width']}x{ingest['height']} {ingest['source_s']} s source "
                           "(probe, every rendition, subtitles, poster, thumbnail sprite, preview clip)",
            "result": f"**{ingest['x_realtime']:.2f}× real time** ({ingest['wall_s']:.1f} s wall)",
            "target": "reported",
            "pass": None,
        })
    others = [c for route in (healthz, movies, admin) for c in route["other_cores"] if c is not None]
    others += [f["cpu_cores"]["other"] for f in fixed.values() if f and f.get("cpu_cores")]
    return {
        "max_other_cores": max(others) if others else None,
        "ratio": ratio,
        "ratio_target": RATIO_TARGET,
        "round_ratios": round_ratios,
        "admin_ratio": admin_ratio,
        "admin_round_ratios": admin_round_ratios,
        "movies_valid": movies_valid,
        "p99_target_ms": P99_TARGET_MS,
        "healthz": healthz,
        "movies": movies,
        "movies_admin": admin,
        "fixed": fixed,
        "seg_nginx": seg_nginx,
        "seg_backend": seg_backend,
        "ingest": ingest,
        "headline": headline,
    }


def plot(data, png, plt):
    s, meta = data["summary"], data["meta"]
    h, m, a = s["healthz"], s["movies"], s["movies_admin"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 9.2))
    fig.suptitle(
        f"Catalog — {data['generated_at']}, commit {data['git']['short']}"
        f"{'+' if data['git'].get('dirty') else ''}, {data['machine']['nproc']} cores, "
        f"wrk -t{meta.get('threads')} -c{meta.get('connections')} {meta.get('duration_s')} s × "
        f"{meta.get('rounds')} rounds; oha -q {meta.get('rate'):,} for {meta.get('rate_duration_s')} s",
        fontsize=11,
    )

    # 1. throughput per round, with the ratio of each round on top
    ax = axes[0][0]
    rounds = h["rounds"]
    x = list(range(len(rounds)))
    w = 0.27
    series = [(h, "GET /healthz (empty route)", "#9aa5b1"),
              (m, "GET /api/v1/movies (anonymous, cached)", "#2f6db5"),
              (a, "GET /api/v1/movies (admin, uncached)", "#d08c2e")]
    for k, (r, label, color) in enumerate(series):
        if not r["rps"]:
            continue
        b = ax.bar([i + (k - 1) * w for i in x], r["rps"], w, label=label, color=color)
        ax.bar_label(b, fmt="{:,.0f}", fontsize=7.5, padding=2)
    for i, r in zip(x, s["round_ratios"]):
        top = max(h["rps"][i], m["rps"][i], a["rps"][i] if i < len(a["rps"]) else 0)
        ax.text(i, top * 1.12, f"ratio {r:.2f}", ha="center", fontsize=9,
                color="#1a7f37" if r >= s["ratio_target"] else "#b42318")
    ax.set_xticks(x, [f"round {r}" for r in rounds])
    ax.set_ylabel("requests / s")
    ax.set_ylim(0, max(h["rps"] + m["rps"] + a["rps"]) * 1.25)
    ok = s["ratio"] is not None and s["ratio"] >= s["ratio_target"] and s["movies_valid"]
    ax.set_title(f"Throughput: median ratio {s['ratio']:.2f} (target ≥ {s['ratio_target']}: "
                 f"{'pass' if ok else 'FAIL'})", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=3, fontsize=7, frameon=False)
    ax.grid(axis="y", alpha=0.3)

    # 2. latency percentiles at the fixed rate
    ax = axes[0][1]
    pcts = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max")]
    names = [("healthz", "/healthz", "#9aa5b1"), ("movies", "/movies (anon)", "#2f6db5"),
             ("movies-admin", "/movies (admin)", "#d08c2e")]
    present = [(k, label, c) for k, label, c in names if s["fixed"].get(k)]
    w = 0.8 / max(len(present), 1)
    for j, (k, label, color) in enumerate(present):
        f = s["fixed"][k]
        vals = [f["latency_ms"][p] for p, _ in pcts]
        b = ax.bar([i + (j - (len(present) - 1) / 2) * w for i in range(len(pcts))], vals, w,
                   label=f"{label} at {f['target_rate']:,.0f}/s: {f['ok_rps']:,.0f} req/s 2xx", color=color)
        ax.bar_label(b, labels=[f"{v:.2f}" if v < 10 else f"{v:.0f}" for v in vals], fontsize=6.5,
                     padding=1, rotation=90)
    ax.axhline(s["p99_target_ms"], color="#b42318", linestyle="--", linewidth=1)
    ax.text(-0.45, s["p99_target_ms"] * 1.1, f"p99 target {s['p99_target_ms']:g} ms",
            color="#b42318", fontsize=8, ha="left")
    ax.set_yscale("log")
    ax.set_xticks(range(len(pcts)), [p for _, p in pcts])
    ax.set_ylabel("latency, ms (log scale)")
    fm = s["fixed"].get("movies")
    verdict = ""
    if fm:
        verdict = (f": /movies p99 {fm['latency_ms']['p99']:.2f} ms "
                   f"({'pass' if fm['rate_held'] and fm['latency_ms']['p99'] < s['p99_target_ms'] else 'FAIL'})")
    ax.set_title(f"Latency at a fixed rate (oha, open loop, corrected){verdict}", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, fontsize=7, frameon=False)
    ax.grid(axis="y", alpha=0.3, which="both")
    if present:
        lo = min(s["fixed"][k]["latency_ms"]["p50"] for k, _, _ in present) / 3
        hi = max(max(s["fixed"][k]["latency_ms"]["max"] for k, _, _ in present), s["p99_target_ms"])
        ax.set_ylim(max(lo, 0.005), hi * 4)

    # 3. segment throughput
    ax = axes[1][0]
    sn, sb, seg = s["seg_nginx"], s["seg_backend"], meta.get("segment", {})
    if sn["rps"]:
        x = list(range(len(sn["rounds"])))
        w = 0.38
        b1 = ax.bar([i - w / 2 for i in x], sn["mb_per_s"], w, label="through nginx (sendfile, auth_request)",
                    color="#1a7f37")
        b2 = ax.bar([i + w / 2 for i in x], sb["mb_per_s"], w, label="backend directly (embedded mode)",
                    color="#8250df")
        ax.bar_label(b1, labels=[f"{v:,.0f} MB/s\n{r:,.0f}/s" for v, r in zip(sn["mb_per_s"], sn["rps"])],
                     fontsize=7, padding=2)
        ax.bar_label(b2, labels=[f"{v:,.0f} MB/s\n{r:,.0f}/s" for v, r in zip(sb["mb_per_s"], sb["rps"])],
                     fontsize=7, padding=2)
        ax.set_xticks(x, [f"round {r}" for r in sn["rounds"]])
        ax.set_ylabel("MB/s (10⁶ bytes)")
        ax.set_ylim(0, max(sn["mb_per_s"] + sb["mb_per_s"]) * 1.35)
        ax.set_title(f"HLS segment {seg.get('bytes', 0) / 1e6:.2f} MB ({seg.get('variant', '?').split('/')[0]}), "
                     f"wrk -c{meta.get('segment_connections')}", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        ax.grid(axis="y", alpha=0.3)
    else:
        ax.set_axis_off()

    # 4. ingest
    ax = axes[1][1]
    ing = s.get("ingest")
    if ing:
        stages = list(ing.get("stages_s", {}).items())
        accounted = sum(v for _, v in stages)
        rest = ing["wall_s"] - accounted
        if rest > 0.25:
            stages.append(("unattributed", rest))
        labels = [k for k, _ in stages]
        vals = [v for _, v in stages]
        b = ax.barh(range(len(vals)), vals, color="#57606a")
        ax.bar_label(b, fmt="{:.1f} s", fontsize=8, padding=2)
        ax.set_yticks(range(len(vals)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(vals) * 1.25 if vals else 1)
        ax.set_xlabel("seconds")
        ax.set_title(f"Ingest {ing['width']}x{ing['height']} {ing['source_s']} s source: "
                     f"{ing['wall_s']:.1f} s = {ing['x_realtime']:.2f}× real time", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    else:
        ax.set_axis_off()
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(png, dpi=110)


def markdown(data, png_rel):
    s, meta = data["summary"], data["meta"]
    h, m, a = s["healthz"], s["movies"], s["movies_admin"]
    # Interference: the ratio rounds (empty route, anonymous page) matter most.
    ratio_other = [c for c in h["other_cores"] + m["other_cores"] if c is not None]
    other = s.get("max_other_cores")
    if not ratio_other:
        noise = ""
    elif max(ratio_other) > 0.15:
        noise = (f" **Warning:** other processes used up to {max(ratio_other):.2f} cores during a ratio round, "
                 "so the ratio is uncertain; re-run on a quiet machine.")
    else:
        noise = (f" Other processes used at most {max(max(ratio_other), 0):.2f} cores during the ratio rounds"
                 + (f" (up to {other:.2f} during the admin and fixed-rate runs, whose numbers may be "
                    "somewhat low)" if other is not None and other > 0.15 else "") + ".")
    page = meta.get("first_page", {})
    out = [
        measured_line(data)
        + f" The machine was {meta.get('cpu_busy_before_pct', '?')}% busy just before measuring." + noise,
        "",
        md_table(
            ["Measurement", "Result", "Target", "Status"],
            [[r["measurement"], r["result"], r["target"], status_cell(r.get("pass"))] for r in s["headline"]],
        ),
        "",
    ]

    def fmt_list(xs, f):
        return ", ".join(format(x, f) for x in xs)

    rows = []
    for name, r in (("GET /healthz (empty route)", h),
                    ("GET /api/v1/movies, anonymous (page cache)", m),
                    ("GET /api/v1/movies, admin (uncached)", a)):
        if not r["rps"]:
            continue
        rows.append([
            name, f"{r['median_rps']:,.0f}", fmt_list(r["rps"], ",.0f"),
            f"{r['median_p50_ms']:.2f}", f"{r['median_p99_ms']:.2f}",
            f"{r['requests']:,}", r["non_2xx"], r["socket_errors"],
        ])
    out += [
        f"Closed loop (wrk `-t{meta.get('threads')} -c{meta.get('connections')}`, "
        f"{meta.get('rounds')} alternating rounds of {meta.get('duration_s')} s):",
        "",
        md_table(["Route", "req/s (median)", "req/s per round", "p50 ms", "p99 ms", "requests",
                  "non-2xx", "socket errors"], rows),
        "",
        f"Per-round ratios to /healthz: anonymous {fmt_list(s['round_ratios'], '.2f')}; "
        f"admin {fmt_list(s['admin_round_ratios'], '.2f')}. "
        f"The first page is {page.get('items', '?')} movies, {page.get('bytes', 0):,} bytes of JSON "
        f"({page.get('genres_per_item', '?')} genres and {page.get('tags_per_item', '?')} tags per movie on "
        f"average, {page.get('with_poster', '?')} with a poster), with a next_cursor.",
        "",
    ]
    if None not in h["server_cores"] + m["server_cores"] + a["server_cores"] and h["server_cores"]:
        out += [
            "CPU during the runs (cores, median of rounds): "
            f"/healthz — server {median(h['server_cores']):.2f}, wrk {median(h['wrk_cores']):.2f}; "
            f"/movies anonymous — server {median(m['server_cores']):.2f}, wrk {median(m['wrk_cores']):.2f}; "
            f"/movies admin — server {median(a['server_cores']):.2f}, wrk {median(a['wrk_cores']):.2f}.",
            "",
        ]
    frows = []
    for key, name in (("healthz", "GET /healthz (empty route)"),
                      ("movies", "GET /api/v1/movies, anonymous (page cache)"),
                      ("movies-admin", "GET /api/v1/movies, admin (uncached)")):
        f = s["fixed"].get(key)
        if not f:
            continue
        lat = f["latency_ms"]
        cpu = f.get("cpu_cores") or {}
        frows.append([
            name, f"{f['target_rate']:,.0f}", f"{f['ok_rps']:,.0f}",
            f"{lat['p50']:.2f}", f"{lat['p90']:.2f}", f"{lat['p99']:.2f}", f"{lat['p999']:.2f}",
            f"{lat['max']:.1f}", f"{f['non_2xx']} / {f['socket_errors']}",
            f"{cpu.get('server', 0):.2f} / {cpu.get('oha', 0):.2f}",
        ])
    if frows:
        out += [
            f"Open loop at a fixed rate (oha `-q {meta.get('rate')} -z {meta.get('rate_duration_s')}s "
            f"-c {meta.get('rate_connections')} --latency-correction`; latency counted from when each request "
            "was due, so queueing behind a stall counts):",
            "",
            md_table(["Route", "target req/s", "answered 2xx req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
                      "max ms", "non-2xx / socket errors", "CPU server / oha (cores)"], frows),
            "",
        ]
    sn, sb, seg = s["seg_nginx"], s["seg_backend"], meta.get("segment", {})
    if sn["rps"]:
        srows = []
        for name, r in (("through nginx", sn), ("backend directly", sb)):
            srows.append([name, f"{r['median_mb_per_s']:,.0f}", fmt_list(r["mb_per_s"], ",.0f"),
                          f"{r['median_rps']:,.0f}", f"{r['median_p50_ms']:.2f}", f"{r['median_p99_ms']:.2f}",
                          f"{r['non_2xx']} / {r['socket_errors']}"])
        out += [
            f"HLS segment: `{seg.get('variant', '?')}` (the highest-bandwidth variant, "
            f"{seg.get('bandwidth', 0) / 1000:,.0f} kbit/s peak) of movie {meta.get('segment_movie_id')}, "
            f"its largest segment ({seg.get('bytes', 0):,} bytes), wrk `-t{meta.get('threads')} "
            f"-c{meta.get('segment_connections')}`, {meta.get('rounds')} alternating rounds:",
            "",
            md_table(["Path", "MB/s (median)", "MB/s per round", "req/s (median)", "p50 ms", "p99 ms",
                      "non-2xx / socket errors"], srows),
            "",
        ]
    ing = s.get("ingest")
    if ing:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in ing.get("stages_s", {}).items())
        out += [
            f"Ingest: a synthetic {ing['width']}x{ing['height']} {ing['source_s']} s source (made in "
            f"{ing.get('synth_wall_s', 0):.1f} s, not counted) was transcoded in **{ing['wall_s']:.1f} s**, "
            f"{ing['x_realtime']:.2f}× real time. Stages: {stages}. "
            f"Renditions: {', '.join(ing.get('renditions', []))}. ffmpeg: {meta.get('ffmpeg_version', '?')}."
            + (f" CPU over the whole example (synthesis included): ingest {ing['cpu_cores']['ingest']:.2f} cores, "
               f"other processes {max(ing['cpu_cores']['other'], 0):.2f} cores"
               + (" — **the ingest shared the machine, so it is likely slower than on a quiet one**"
                  if ing["cpu_cores"]["other"] > 0.15 else "") + "."
               if ing.get("cpu_cores") else ""),
            "",
        ]
    if png_rel:
        out += [f"![Catalog benchmark: throughput, fixed-rate latency, segments and ingest]({png_rel})", ""]
    cat = meta.get("catalog", {})
    out += [
        "Method: `scripts/bench/catalog.sh` starts the release server (embedded SQLite, fresh data dir, log "
        "level warn, login/register rate limits lifted) and fills the catalog: `luojia seed-demo` (run "
        "against the same data dir) transcodes the 5 demo movies with ffmpeg, so they are `ready` with real "
        "HLS media; a registered user is made an admin with `luojia user create-admin` and creates "
        f"{cat.get('created', '?')} more movies through `POST /api/v1/movies` (title, year, synopsis, "
        "director, cast, 1–2 genres, 3 tags, duration). Those have no media, so they stay `processing`, "
        "which only admins see; the script marks them ready directly in the SQLite file "
        "(`UPDATE movies SET status = 'ready' WHERE status = 'processing'`, "
        f"{cat.get('marked_ready', '?')} rows) instead of transcoding a video for each, and gives each a "
        "poster (`poster_path`, a copy of a demo movie's poster), so the page has every field a real one has. "
        "The first page "
        "(`GET /api/v1/movies`, no query: 20 movies, newest first) is checked to hold 20 ready movies with "
        "genres and tags and a next_cursor. For everyone but admins the server renders a catalog page once "
        "and reuses it for 5 s (`media.catalog_cache_ttl_secs`, by design), so the anonymous numbers "
        "measure that page cache; an admin's token bypasses the cache, so the admin rows run the SQL query "
        "(page of movies, then their genres and tags) and the serialisation on every request. Unknown "
        "query parameters are rejected, so a cache-busting parameter is not possible. Throughput: wrk, "
        f"{meta.get('warmup_s')} s warm-up per route, then {meta.get('rounds')} alternating rounds "
        "(`/healthz`, anonymous page, admin page with a fresh access token); the ratio is the median "
        "anonymous req/s over the median /healthz req/s. Fixed rate: oha sends requests at a constant "
        "rate regardless of answers (open loop) and, with `--latency-correction`, counts each latency from "
        "when the request should have been sent; the run counts only if at least "
        f"{RATE_SHORTFALL:.0%} of the rate was answered with 2xx and nothing failed; requests still in "
        "flight at the deadline are cut off and not counted. Segments: nginx runs the repository's "
        "`nginx.conf` rendered by `luojia nginx-conf` (the production file with local paths and ports, "
        "access log on, 2 workers); a second user gets a playback grant (`GET /api/v1/movies/{id}/playback`) "
        "for the demo movie with the largest rendition, the script reads the master and variant playlists "
        "through nginx and picks that variant's largest `.ts` segment; it checks the segment is served "
        "through nginx and by the backend (embedded mode also serves `/hls/`) and that a forged grant gets "
        "403 from nginx. nginx checks the grant with `auth_request` against the backend and caches the "
        "answer 30 s per grant, so almost every request is a `sendfile` from disk (page cache). MB/s is "
        "response bytes (headers included) per second. Ingest: the `ingest_bench` example of `luojia-media` "
        "makes the synthetic source with ffmpeg, then runs the ingest pipeline (probe, every rendition of the "
        "ladder in one ffmpeg run, subtitles, poster, thumbnail sprite, preview clip) and reports source "
        "seconds ÷ wall seconds (the source's own synthesis is not counted). The load "
        f"generators, nginx and ffmpeg run on the same {data['machine'].get('nproc', '?')} cores as the server.",
    ]
    return "\n".join(out)
