#!/usr/bin/env python3
"""Helpers for scripts/bench/catalog.sh (standard library only).

    catalog_helpers.py seed URL TOKEN DATA_DIR COUNT
        POST COUNT movies (title, year, synopsis, genres, tags, cast, director, duration) to
        URL/api/v1/movies as the admin TOKEN, then, directly in the SQLite file
        DATA_DIR/luojia.db, mark every movie still `processing` as `ready` and give it a
        poster (a copy of a demo movie's poster under DATA_DIR/public/movies/<id>/). They have
        no HLS media; the listing does not need any. Prints what it did as JSON.

    catalog_helpers.py pick-movie URL
        Print the id of the ready movie on the first page whose largest rendition has the
        most pixels (the demo movies are the only ones with media).

    catalog_helpers.py pick-segment BASE MASTER_PATH
        Read the HLS master playlist BASE+MASTER_PATH, take the variant with the highest
        BANDWIDTH, read its media playlist and HEAD each segment; print one JSON object
        {"segment_path", "bytes", "variant", "bandwidth", "segments"} for the largest one.

    catalog_helpers.py parse-ingest LOG
        Turn the output of the luojia-media `ingest_bench` example into one JSON record.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import sys
import urllib.parse
import urllib.request
from pathlib import Path

GENRES = ["action", "adventure", "animation", "comedy", "crime", "documentary", "drama",
          "family", "fantasy", "history", "horror", "music", "mystery", "romance", "sci_fi",
          "thriller", "war"]
TAGS = ["校园", "武汉", "樱花", "friendship", "road movie", "based on a novel", "雨夜",
        "时间旅行", "noir", "coming of age", "长江", "heist", "独立电影", "biopic", "太空"]
NAMES = ["陈一鸣", "周雨桐", "Alex Wang", "李青", "Maria Santos", "王小川", "赵敏", "Kenji Sato",
         "刘芳", "Jean Dupont", "孙悦", "Priya Nair", "黄磊", "Olga Ivanova", "吴桐"]
WORDS = ["山", "湖", "夜", "春", "雨", "光", "城", "梦", "风", "海", "星", "路"]


def movie(i: int) -> dict:
    w = WORDS
    return {
        "title": f"{w[i % 12]}{w[(i * 5 + 3) % 12]}之{['歌', '约', '旅', '影', '门'][i % 5]} {i + 1}",
        "original_title": f"Benchmark Feature No. {i + 1}",
        "year": 1990 + (i * 7) % 35,
        "synopsis": (
            f"第 {i + 1} 部基准测试影片。一个关于{w[i % 12]}与{w[(i + 4) % 12]}的故事："
            "主人公在珞珈山下的旧书店里找到一封没有寄出的信，于是踏上了寻找写信人的旅程。"
            " A benchmark movie with a synopsis of realistic length, in two languages, "
            "so that the catalog page carries as many bytes as a real one."
        ),
        "director": NAMES[(i * 3) % len(NAMES)],
        "cast": [NAMES[(i + k) % len(NAMES)] for k in range(3 + i % 3)],
        "genres": sorted({GENRES[(i * 3) % len(GENRES)], GENRES[(i * 7 + 2) % len(GENRES)]}),
        "tags": sorted({TAGS[i % len(TAGS)], TAGS[(i * 4 + 1) % len(TAGS)], TAGS[(i + 9) % len(TAGS)]}),
        "duration_ms": (85 + (i * 11) % 60) * 60_000,
    }


def request(method: str, url: str, token: str | None = None, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers, r.read()


def cmd_seed(url: str, token: str, data_dir: str, count: int) -> None:
    for i in range(count):
        status, _, body = request("POST", f"{url}/api/v1/movies", token, movie(i))
        if status != 201:
            sys.exit(f"POST /api/v1/movies answered {status}: {body[:300]!r}")
    movies_dir = Path(data_dir) / "public" / "movies"
    con = sqlite3.connect(Path(data_dir) / "luojia.db", timeout=30)
    try:
        with con:
            poster = con.execute(
                "SELECT id, poster_path FROM movies WHERE status = 'ready' AND poster_path IS NOT NULL "
                "ORDER BY id LIMIT 1").fetchone()
            ids = [r[0] for r in con.execute("SELECT id FROM movies WHERE status = 'processing'")]
            if poster:
                src = movies_dir / str(poster[0]) / poster[1]
                for i in ids:
                    (movies_dir / str(i)).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, movies_dir / str(i) / "poster.jpg")
                con.executemany("UPDATE movies SET poster_path = 'poster.jpg' WHERE id = ?", [(i,) for i in ids])
            ready = con.execute("UPDATE movies SET status = 'ready' WHERE status = 'processing'").rowcount
    finally:
        con.close()
    print(json.dumps({"created": count, "marked_ready": ready, "posters_copied": len(ids) if poster else 0}))


def cmd_pick_movie(url: str) -> None:
    _, _, body = request("GET", f"{url}/api/v1/movies?limit=100")
    best = None
    for item in json.loads(body)["items"]:
        _, _, detail = request("GET", f"{url}/api/v1/movies/{item['id']}")
        pixels = max((r["width"] * r["height"] for r in json.loads(detail).get("renditions", [])), default=0)
        if pixels and (best is None or pixels > best[0]):
            best = (pixels, item["id"])
    if best is None:
        sys.exit("no ready movie with renditions")
    print(best[1])


def cmd_pick_segment(base: str, master_path: str) -> None:
    master_url = base + master_path
    _, _, body = request("GET", master_url)
    lines = body.decode().splitlines()
    variants = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            m = re.search(r"(?:^|[:,])BANDWIDTH=(\d+)", line)
            uri = next((l for l in lines[i + 1:] if l and not l.startswith("#")), None)
            if m and uri:
                variants.append((int(m.group(1)), uri))
    if not variants:
        sys.exit(f"no variants in {master_url}:\n{body.decode()[:500]}")
    bandwidth, variant = max(variants)
    variant_url = urllib.parse.urljoin(master_url, variant)
    _, _, body = request("GET", variant_url)
    segments = [l for l in body.decode().splitlines() if l and not l.startswith("#")]
    if not segments:
        sys.exit(f"no segments in {variant_url}")
    best = None
    for s in segments:
        seg_url = urllib.parse.urljoin(variant_url, s)
        _, headers, _ = request("HEAD", seg_url)
        size = int(headers.get("Content-Length") or 0)
        if best is None or size > best[0]:
            best = (size, seg_url)
    size, seg_url = best
    print(json.dumps({
        "segment_path": urllib.parse.urlsplit(seg_url).path,
        "bytes": size,
        "variant": variant,
        "bandwidth": bandwidth,
        "segments": len(segments),
    }))


def cmd_parse_ingest(log: str) -> None:
    text = open(log, encoding="utf-8").read()
    rec: dict = {"label": "ingest", "kind": "ingest", "round": 1, "stages_s": {}}
    m = re.search(r"^synth\s+(\d+)x(\d+) (\d+)s: ([\d.]+)s \(([\d.]+)x real time\)", text, re.M)
    if m:
        rec.update(width=int(m.group(1)), height=int(m.group(2)), source_s=int(m.group(3)),
                   synth_wall_s=float(m.group(4)), synth_x_realtime=float(m.group(5)))
    m = re.search(r"^ingest\s+(\d+)x(\d+) (\d+)s: ([\d.]+)s \(([\d.]+)x real time\), renditions: (.*)$",
                  text, re.M)
    if not m:
        sys.exit(f"no 'ingest ...' line in {log}:\n{text[-1000:]}")
    rec.update(width=int(m.group(1)), height=int(m.group(2)), source_s=int(m.group(3)),
               wall_s=float(m.group(4)), x_realtime=float(m.group(5)),
               renditions=[r.strip() for r in m.group(6).split(",") if r.strip()])
    for sm in re.finditer(r"^  (\w+)(?: \{[^}]*\})?: ([\d.]+)s$", text, re.M):
        rec["stages_s"][sm.group(1)] = float(sm.group(2))
    print(json.dumps(rec, ensure_ascii=False))


def main() -> None:
    a = sys.argv[1:]
    if a[:1] == ["seed"] and len(a) == 5:
        cmd_seed(a[1], a[2], a[3], int(a[4]))
    elif a[:1] == ["pick-movie"] and len(a) == 2:
        cmd_pick_movie(a[1])
    elif a[:1] == ["pick-segment"] and len(a) == 3:
        cmd_pick_segment(a[1], a[2])
    elif a[:1] == ["parse-ingest"] and len(a) == 2:
        cmd_parse_ingest(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
