"""Section "accounts": GET /api/v1/me against the empty route, and logins per second."""

from __future__ import annotations

from report import measured_line, md_table, median, status_cell

TITLE = "Accounts: authenticated profile and logins"
ORDER = 10
RATIO_TARGET = 0.6


def _route(runs, label):
    rs = sorted((r for r in runs if r["label"] == label), key=lambda r: r["round"])
    return {
        "rounds": [r["round"] for r in rs],
        "rps": [r["rps"] for r in rs],
        "p50_ms": [r["latency_us"]["p50"] / 1000 for r in rs],
        "p99_ms": [r["latency_us"]["p99"] / 1000 for r in rs],
        "requests": sum(r["requests"] for r in rs),
        "non_2xx": sum(r["errors"]["status"] for r in rs),
        "socket_errors": sum(r["errors"][k] for r in rs for k in ("connect", "read", "write", "timeout")),
        "median_rps": median(r["rps"] for r in rs),
        "median_p50_ms": median(r["latency_us"]["p50"] / 1000 for r in rs),
        "median_p99_ms": median(r["latency_us"]["p99"] / 1000 for r in rs),
        "server_cores": [r.get("cpu_cores", {}).get("server") for r in rs],
        "wrk_cores": [r.get("cpu_cores", {}).get("wrk") for r in rs],
        "other_cores": [r.get("cpu_cores", {}).get("other") for r in rs],
    }


def summarize(runs, meta):
    healthz, me = _route(runs, "healthz"), _route(runs, "me")
    ratio = me["median_rps"] / healthz["median_rps"] if healthz["median_rps"] else None
    round_ratios = [m / h for h, m in zip(healthz["rps"], me["rps"]) if h]
    # /me numbers count only if every response was a 200-class answer.
    me_valid = me["non_2xx"] == 0 and me["requests"] > 0
    login_run = next((r for r in runs if r["label"] == "login"), None)
    login = None
    if login_run:
        ok = int((login_run.get("status_counts") or {}).get("200", 0))
        login = {
            "ok_200": ok,
            "requests": login_run["requests"],
            "non_2xx": login_run["errors"]["status"],
            "socket_errors": sum(login_run["errors"][k] for k in ("connect", "read", "write", "timeout")),
            "status_counts": login_run.get("status_counts"),
            "duration_s": login_run["duration_s"],
            "logins_per_s": ok / login_run["duration_s"],
            "p50_ms": login_run["latency_us"]["p50"] / 1000,
            "p99_ms": login_run["latency_us"]["p99"] / 1000,
            "cpu_cores": login_run.get("cpu_cores"),
        }
    cost = meta.get("bcrypt_cost", "?")
    headline = []
    if ratio is not None:
        headline.append({
            "measurement": "GET /api/v1/me with a valid token, req/s as a ratio to the empty route (GET /healthz), same server and run",
            "result": f"**{ratio:.2f}** ({me['median_rps']:,.0f} / {healthz['median_rps']:,.0f} req/s)"
                      + ("" if me_valid else f"; {me['non_2xx']} non-2xx answers, not valid"),
            "target": f"≥ {RATIO_TARGET}",
            "pass": bool(me_valid and ratio >= RATIO_TARGET),
        })
    if login:
        headline.append({
            "measurement": f"POST /api/v1/auth/login, logins per second (bcrypt cost {cost})",
            "result": f"**{login['logins_per_s']:.1f}** logins/s ({login['ok_200']} × 200 in {login['duration_s']:.1f} s"
                      + (f", {login['non_2xx']} non-2xx" if login["non_2xx"] else "") + ")",
            "target": "reported",
            "pass": None,
        })
    others = [c for c in healthz["other_cores"] + me["other_cores"] if c is not None]
    if login and login.get("cpu_cores"):
        others.append(login["cpu_cores"]["other"])
    return {
        "max_other_cores": max(others) if others else None,
        "ratio": ratio,
        "ratio_target": RATIO_TARGET,
        "round_ratios": round_ratios,
        "me_valid": me_valid,
        "healthz": healthz,
        "me": me,
        "login": login,
        "headline": headline,
    }


def plot(data, png, plt):
    s, meta = data["summary"], data["meta"]
    h, m, login = s["healthz"], s["me"], s.get("login")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), gridspec_kw={"width_ratios": [1.5, 1, 1]})
    fig.suptitle(
        f"Accounts — {data['generated_at']}, commit {data['git']['short']}"
        f"{'+' if data['git'].get('dirty') else ''}, {data['machine']['nproc']} cores, "
        f"wrk -t{meta.get('threads')} -c{meta.get('connections')} {meta.get('duration_s')} s × {meta.get('rounds')} rounds",
        fontsize=11,
    )

    # 1. throughput per round, with the ratio of each round on top
    ax = axes[0]
    rounds = h["rounds"]
    x = list(range(len(rounds)))
    w = 0.38
    b1 = ax.bar([i - w / 2 for i in x], h["rps"], w, label="GET /healthz (empty route)", color="#9aa5b1")
    b2 = ax.bar([i + w / 2 for i in x], m["rps"], w, label="GET /api/v1/me (valid token)", color="#2f6db5")
    ax.bar_label(b1, fmt="{:,.0f}", fontsize=8, padding=2)
    ax.bar_label(b2, fmt="{:,.0f}", fontsize=8, padding=2)
    for i, r in zip(x, s["round_ratios"]):
        top = max(h["rps"][i], m["rps"][i])
        ax.text(i, top * 1.10, f"ratio {r:.2f}", ha="center", fontsize=9,
                color="#1a7f37" if r >= s["ratio_target"] else "#b42318")
    ax.set_xticks(x, [f"round {r}" for r in rounds])
    ax.set_ylabel("requests / s")
    ax.set_ylim(0, max(h["rps"] + m["rps"]) * 1.28)
    verdict = "pass" if s["ratio"] >= s["ratio_target"] and s["me_valid"] else "FAIL"
    ax.set_title(f"Throughput: median ratio {s['ratio']:.2f} (target ≥ {s['ratio_target']}: {verdict})", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)

    # 2. latency p50 / p99 (median over rounds)
    ax = axes[1]
    labels = ["/healthz", "/api/v1/me"]
    p50 = [h["median_p50_ms"], m["median_p50_ms"]]
    p99 = [h["median_p99_ms"], m["median_p99_ms"]]
    x = [0, 1]
    c1 = ax.bar([i - w / 2 for i in x], p50, w, label="p50", color="#7fb3e6")
    c2 = ax.bar([i + w / 2 for i in x], p99, w, label="p99", color="#1f4e8c")
    ax.bar_label(c1, fmt="{:.2f}", fontsize=8, padding=2)
    ax.bar_label(c2, fmt="{:.2f}", fontsize=8, padding=2)
    ax.set_xticks(x, labels)
    ax.set_ylabel("latency, ms")
    ax.set_ylim(0, max(p99) * 1.2)
    ax.set_title(f"Latency under load ({meta.get('connections')} connections)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)

    # 3. logins
    ax = axes[2]
    if login:
        b = ax.bar([0], [login["logins_per_s"]], 0.5, color="#8250df")
        ax.bar_label(b, fmt="{:.1f}/s", fontsize=9, padding=2)
        ax.set_xticks([0], [f"POST /auth/login\nbcrypt cost {meta.get('bcrypt_cost')}"])
        ax.set_ylabel("successful logins / s")
        ax.set_ylim(0, login["logins_per_s"] * 1.35 or 1)
        ax.set_xlim(-0.8, 0.8)
        ax.set_title(f"Logins ({meta.get('login_connections')} connections)", fontsize=10)
        ax.text(0, login["logins_per_s"] * 1.18,
                f"p50 {login['p50_ms']:.0f} ms, p99 {login['p99_ms']:.0f} ms",
                ha="center", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    else:
        ax.set_axis_off()
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(png, dpi=110)


def markdown(data, png_rel):
    s, meta = data["summary"], data["meta"]
    h, m, login = s["healthz"], s["me"], s.get("login")
    other = s.get("max_other_cores")
    if other is None:
        noise = ""
    elif other > 0.15:
        noise = (f" **Warning:** other processes used up to {other:.2f} cores during a run, "
                 "so these numbers are likely low; re-run on a quiet machine.")
    else:
        noise = f" Other processes used at most {max(other, 0):.2f} cores during the runs."
    out = [
        measured_line(data)
        + f" bcrypt cost **{meta.get('bcrypt_cost')}**. The machine was {meta.get('cpu_busy_before_pct', '?')}% busy "
        + "just before measuring." + noise,
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
    for name, r in (("GET /healthz (empty route)", h), ("GET /api/v1/me (valid token)", m)):
        rows.append([
            name, f"{r['median_rps']:,.0f}", fmt_list(r["rps"], ",.0f"),
            f"{r['median_p50_ms']:.2f}", f"{r['median_p99_ms']:.2f}",
            f"{r['requests']:,}", r["non_2xx"], r["socket_errors"],
        ])
    if login:
        rows.append([
            f"POST /api/v1/auth/login (bcrypt cost {meta.get('bcrypt_cost')})",
            f"{login['logins_per_s']:.1f}", "—",
            f"{login['p50_ms']:.0f}", f"{login['p99_ms']:.0f}",
            f"{login['requests']:,}", login["non_2xx"], login["socket_errors"],
        ])
    out += [
        md_table(
            ["Route", "req/s (median)", "req/s per round", "p50 ms", "p99 ms", "requests", "non-2xx", "socket errors"],
            rows,
        ),
        "",
        f"Per-round ratios /me ÷ /healthz: {fmt_list(s['round_ratios'], '.2f')}.",
        "",
    ]
    if h["server_cores"] and None not in h["server_cores"] + m["server_cores"]:
        out += [
            "CPU during the runs (cores, median of rounds): "
            f"/healthz — server {median(h['server_cores']):.2f}, wrk {median(h['wrk_cores']):.2f}; "
            f"/me — server {median(m['server_cores']):.2f}, wrk {median(m['wrk_cores']):.2f}"
            + (f"; logins — server {login['cpu_cores']['server']:.2f}" if login and login.get("cpu_cores") else "")
            + ".",
            "",
        ]
    if png_rel:
        out += [f"![Accounts benchmark: throughput, latency and logins]({png_rel})", ""]
    out += [
        "Method: `scripts/bench/accounts.sh` starts the release server (embedded SQLite, fresh data dir, "
        "log level warn, login/register rate limits lifted), registers one user, checks that `/healthz` "
        "answers `ok`, that `/api/v1/me` answers 200 with the token and 401 with a bad one, waits for the "
        "machine to be idle, then runs "
        f"wrk `-t{meta.get('threads')} -c{meta.get('connections')} --latency`: {meta.get('warmup_s')} s warm-up "
        f"per route, then {meta.get('rounds')} alternating rounds of {meta.get('duration_s')} s "
        "(`/healthz`, then `/api/v1/me` with an access token fetched just before the run). The ratio is "
        "the median /me req/s over the median /healthz req/s; latencies are the medians of the rounds' "
        f"percentiles. Logins: wrk posts `{{\"login\",\"password\"}}` for {meta.get('login_duration_s')} s "
        f"over {meta.get('login_connections')} connections; only 200 answers count. wrk runs on the same "
        f"{data['machine'].get('nproc', '?')} cores as the server.",
    ]
    return "\n".join(out)
