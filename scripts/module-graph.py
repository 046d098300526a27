#!/usr/bin/env python3
"""The module graph of the backend: an edge A -> B when a file of top-level module A
names `crate::B` (in a `use` or a path; unit tests left out). Prints every module's
edges, then the cycles between features (the shared layer, SHARED below, is used by
every feature and holds or mounts them, so it is left out of the cycle check). Used to
keep docs/architecture.md honest:

    python3 scripts/module-graph.py            # edges and cycles between features
    python3 scripts/module-graph.py --check    # exit 1 if features form a cycle
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "backend" / "src"
SHARED = {
    "client_ip", "config", "db", "demo", "edge", "entities", "error", "health",
    "nginx_conf", "openapi", "paging", "ratelimit", "redis", "routes", "startup", "state",
    "telemetry", "webapp",
}


def modules():
    """Top-level modules, and each feature's `domain.rs` as a node of its own
    (`rooms::domain`): a feature's concepts are a leaf that other features and the
    entities may name without depending on the feature's logic."""
    for p in sorted(SRC.iterdir()):
        if p.is_dir():
            domain = p / "domain.rs"
            yield p.name, sorted(f for f in p.rglob("*.rs") if f != domain)
            if domain.exists():
                yield f"{p.name}::domain", [domain]
        elif p.suffix == ".rs" and p.stem not in ("lib", "main"):
            yield p.stem, [p]


def strip_tests(text):
    # Unit tests may reach anywhere; the graph is about the code itself.
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]


def edges():
    names = {m for m, _ in modules()}
    out = {}
    for m, files in modules():
        deps = set()
        for f in files:
            text = strip_tests(f.read_text())
            text = re.sub(r"//.*", "", text)
            for used in re.findall(r"\bcrate::(\w+::domain)\b", text):
                if used in names and used != m:
                    deps.add(used)
            text = re.sub(r"\bcrate::\w+::domain\b", "", text)
            for used in re.findall(r"\bcrate::(\w+)", text):
                if used in names and used != m:
                    deps.add(used)
            # `use crate::{a, b::c}` groups
            for group in re.findall(r"\bcrate::\{([^}]*)\}", text, re.S):
                for used in re.findall(r"(?:^|,)\s*(\w+)", group):
                    if used in names and used != m:
                        deps.add(used)
        out[m] = deps
    return out


def cycles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return comps


def main():
    g = edges()
    for m in sorted(g):
        print(f"{m} -> {', '.join(sorted(g[m])) or '(nothing)'}")
    features = {m: {d for d in deps if d not in SHARED} for m, deps in g.items() if m not in SHARED}
    found = cycles(features)
    for c in found:
        pairs = [
            f"{a} <-> {b}" for a in c for b in c if a < b and b in features[a] and a in features[b]
        ]
        print(f"cycle: {' / '.join(c)}" + (f" (direct: {', '.join(pairs)})" if pairs else ""))
    if not found:
        print("no cycles between features")
    if "--check" in sys.argv and found:
        sys.exit(1)


if __name__ == "__main__":
    main()
