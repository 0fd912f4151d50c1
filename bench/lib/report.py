#!/usr/bin/python3
"""Turns bench/run's raw measurements into a Markdown report (stdout) and a JSON document.

usage: report.py RESULTS_TSV COUNTS_TSV META_TSV OUT_JSON
"""
import json
import math
import statistics
import sys
from collections import defaultdict


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def main():
    results_path, counts_path, meta_path, out_path = sys.argv[1:5]
    meta = {k: v for k, v in (row[:2] for row in read_tsv(meta_path))}
    counts = defaultdict(dict)
    for case, tool, key, value in read_tsv(counts_path):
        counts[(case, tool)][key] = value
    runs = defaultdict(list)
    order = []
    def split_case(case):
        # "oci-200", "rtt-200", "h2rtt20-200" (HTTP/2 over TLS at 20 ms RTT), "h2fastrtt20-200"
        # (the same from nginx) -> kind, images, RTT
        kind, n = case.split("-", 1)
        rtt = None
        if kind.startswith("h2fastrtt"):
            kind, rtt = "h2fast", int(kind[len("h2fastrtt"):])
        elif kind.startswith("h2rtt"):
            kind, rtt = "h2", int(kind[len("h2rtt"):])
        return kind, int(n), rtt

    for case, tool, _round, wall, user, sys_, rc in read_tsv(results_path):
        if (case, tool) not in runs:
            order.append((case, tool))
        runs[(case, tool)].append((float(wall), float(user) + float(sys_), int(rc)))

    cases = {}
    for case, tool in order:
        kind, n, rtt = split_case(case)
        tags = int(meta.get(f"case.{case}.tags", meta.get(f"case.{n}.tags", 3 * n)))
        scale_key = f"scale.{n}.{tool}" if kind in ("oci", "ecr", "h2", "h2fast") else None
        sampled = None
        factor = 1.0
        if scale_key and scale_key in meta:
            part, whole = (int(x) for x in meta[scale_key].split())
            if part and part != whole:
                factor = whole / part
                sampled = {"timed": part, "of": whole}
        samples = runs[(case, tool)]
        walls = [w * factor for w, _, _ in samples]
        cpus = [c * factor for _, c, _ in samples]
        entry = {
            "tool": tool,
            "runs": len(samples),
            "failed_runs": sum(1 for *_, rc in samples if rc != 0),
            "wall_seconds": {"median": statistics.median(walls), "min": min(walls),
                             "max": max(walls), "all": walls},
            "cpu_seconds_median": statistics.median(cpus),
            "cpu_us_per_tag": statistics.median(cpus) / tags * 1e6,
            "extrapolated_from": sampled,
        }
        c = counts.get((case, tool), {})
        if "peak_rss_kb" in c and c["peak_rss_kb"]:
            entry["peak_rss_kb"] = int(c["peak_rss_kb"])
        if "registry_requests" in c:
            entry["registry_requests"] = c["registry_requests"]
        if "aws_requests" in c:
            entry["aws_requests"] = json.loads(c["aws_requests"] or "{}")
        cases.setdefault(case, {"kind": kind, "images": n, "tags": tags, "rtt_ms": rtt, "tools": []})
        cases[case]["tools"].append(entry)

    def tool(case, name):
        for t in cases.get(case, {}).get("tools", []):
            if t["tool"] == name:
                return t
        return None

    def med(case, name):
        t = tool(case, name)
        return t["wall_seconds"]["median"] if t else None

    lines = ["# imagegate benchmark", ""]
    lines.append(f"Mode: {meta.get('mode')}, {meta.get('started')} to {meta.get('finished')}. "
                 f"Machine: {meta.get('nproc')} CPUs ({meta.get('cpu')}), {meta.get('memory')}, "
                 f"kernel {meta.get('kernel')}. Load average (1/5/15 min) at start "
                 f"{meta.get('load.start')}, at end {meta.get('load.end')}.")
    lines.append(f"Tools: {meta.get('imagegate')}; {meta.get('curl')}; {meta.get('skopeo')}; "
                 f"{meta.get('registry')}; awscli from Debian (/usr/bin/aws).")
    lines.append("")
    lines.append(f"Populating: {meta.get('populate.images')} images x 3 tags pushed to the registry API "
                 f"with curl ({meta.get('populate.requests')} requests) in {meta.get('populate.seconds')} s.")
    if "ecr.imagegate" in meta:
        lines.append(f"ECR (imagegate): {meta['ecr.imagegate']}.")
    if "ecr" in meta:
        lines.append(f"ECR: {meta['ecr']}.")
    lines.append("")

    for case, data in cases.items():
        base_name = "imagegate-ecr" if data["kind"] == "ecr" else "imagegate"
        base = med(case, base_name)
        title = {"oci": f"OCI registry on loopback, {data['images']} images x 3 tags",
                 "ecr": f"ECR API (fake AWS on loopback), {data['images']} repositories x 3 tags",
                 "rtt": f"OCI registry, {meta.get('rtt.ms')} ms RTT, {data['images']} images x 3 "
                        f"tags",
                 "h2": f"OCI registry over TLS with HTTP/2, {data['rtt_ms']} ms RTT, "
                       f"{data['images']} images x 3 tags",
                 "h2fast": f"nginx serving the same manifests over TLS with HTTP/2, "
                           f"{data['rtt_ms']} ms RTT, {data['images']} images x 3 tags"}[data["kind"]]
        lines += [f"## {title}", ""]
        if data["kind"] in ("h2", "h2fast"):
            r, k = data["rtt_ms"], data["kind"]
            server = "the TLS registry" if k == "h2" else "nginx"
            probe = "/v2/" if k == "h2" else "one manifest HEAD"
            lines.append(f"RTT by {f'the relay (bench/lib/delay_proxy.py) in front of {server}' if r else f'none ({server} directly)'}; "
                         f"curl probe {probe} x4 on one connection (s): {meta.get(f'{k}.{r}.probe_seconds')}. "
                         f"imagegate's evidence timing: {meta.get(f'{k}.{r}.imagegate_timing')}.")
            if k == "h2fast":
                lines.append(f"Server: {meta.get('h2fast.server')}, answering each HEAD from a file "
                             f"(Docker-Content-Digest from a map of the paths).")
            if r:
                reqs = data["tags"]
                for streams in (int(meta.get("h2.streams", 100)), 16):
                    b = (math.ceil(reqs / streams) + 2) * r
                    lines.append(f"Bound with {streams} streams: ceil({reqs}/{streams}) x {r} ms + "
                                 f"handshake (TCP + TLS 1.3, 2 x {r} ms) = {b} ms.")
            floor = med(f"oci-{data['images']}", "imagegate") if k == "h2" else None
            if floor:
                lines.append(f"The same requests on loopback without TLS or RTT (the registry's own "
                             f"service time on this machine): imagegate {ms(floor)}.")
            lines.append("")
        if data["kind"] == "rtt":
            lines.append(f"RTT by {meta.get('rtt.method')}; curl probe /v2/ x6 on one connection "
                         f"(s): {meta.get('rtt.probe_seconds')}.")
            floor = [(med(f"oci-{data['images']}", c), c) for c in
                     ("imagegate", "curl-par16", "curl-par16-immediate")]
            floor = [f"{c} {ms(v)}" for v, c in floor if v]
            if floor:
                lines.append(f"The same requests without added RTT (the registry's own service "
                             f"time on this machine): {', '.join(floor)}.")
            lines.append("")
        loads = (meta.get(f"load.{case}.start"), meta.get(f"load.{case}.end"))
        lines.append(f"Load average during the case: {loads[0]} -> {loads[1]}.")
        lines.append("")
        lines.append("| tool | runs | median | min–max | ratio to imagegate | CPU user+sys | "
                     "CPU/tag | peak RSS | requests seen |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for t in data["tools"]:
            w = t["wall_seconds"]
            ratio = f"{w['median'] / base:.2f}x" if base else "–"
            name = t["tool"]
            if t["extrapolated_from"]:
                s = t["extrapolated_from"]
                name += f" (timed {s['timed']} of {s['of']}, scaled)"
            if t["failed_runs"]:
                name += f" **{t['failed_runs']} FAILED**"
            rss = f"{t['peak_rss_kb'] / 1024:.1f} MiB" if "peak_rss_kb" in t else "–"
            req = t.get("registry_requests", "")
            if "aws_requests" in t:
                req = ", ".join(f"{k}={v}" for k, v in sorted(t["aws_requests"].items()))
            lines.append(f"| {name} | {t['runs']} | {ms(w['median'])} | {ms(w['min'])}–"
                         f"{ms(w['max'])} | {ratio} | {ms(t['cpu_seconds_median'])} | "
                         f"{t['cpu_us_per_tag']:.0f} µs | {rss} | {req} |")
        lines.append("")

    # Targets, each from peers of the same run.
    targets = []

    def target(name, value, limit, ok, detail):
        targets.append({"target": name, "value": value, "limit": limit, "met": ok,
                        "detail": detail})

    ig4, sk4 = med("oci-4", "imagegate"), med("oci-4", "skopeo-loop")
    if ig4 is not None:
        target("4x3 loopback, whole process", f"{ig4 * 1000:.1f} ms", "<= 25 ms", ig4 <= 0.025,
               "median wall time of imagegate gate")
        if sk4:
            target("4x3 loopback, vs skopeo loop", f"{sk4 / ig4:.1f}x faster", ">= 10x",
                   sk4 / ig4 >= 10, "skopeo inspect --raw, one process per tag")
    ig200 = med("oci-200", "imagegate")
    curls = [(med("oci-200", c), c) for c in ("curl-seq", "curl-par16", "curl-par16-immediate")]
    curls = [c for c in curls if c[0]]
    if ig200 and curls:
        best, which = min(curls)
        target("200x3 loopback vs curl's best", f"{ig200 / best:.2f}x of {which}", "<= 1.1x",
               ig200 / best <= 1.1, "median wall, same HEAD requests")
    for case in cases:
        if case.startswith("oci-"):
            t = tool(case, "imagegate")
            if t:
                target(f"client CPU per tag ({case})", f"{t['cpu_us_per_tag']:.0f} µs", "<= 50 µs",
                       t["cpu_us_per_tag"] <= 50, "user+sys of the whole process / tags")
    oci = sorted((cases[c]["images"], c) for c in cases if c.startswith("oci-"))
    if len(oci) >= 2:
        (_, small), (_, large) = oci[0], oci[-1]
        a, b = tool(small, "imagegate"), tool(large, "imagegate")
        if a and b:
            extra = (b["cpu_seconds_median"] - a["cpu_seconds_median"]) / (
                cases[large]["tags"] - cases[small]["tags"]) * 1e6
            target(f"client CPU per additional tag ({small} -> {large})", f"{extra:.0f} µs",
                   "<= 50 µs", extra <= 50, "difference of the medians over the difference in tags:"
                   " the per-tag cost without process start-up")
    rtt = [c for c in cases if c.startswith("rtt-")]
    if rtt:
        t = tool(rtt[0], "imagegate")
        reqs = int(meta.get("rtt.requests", 600))
        conc = int(meta.get("concurrency", 16))
        bound = math.ceil(reqs / conc) * int(meta.get("rtt.ms", 20)) / 1000
        probe = [float(x) for x in meta.get("rtt.probe_seconds", "").split()]
        if t and len(probe) >= 2:
            # What the link really added per request on a warm connection (the relay's own
            # scheduling delay included): the bound with that RTT.
            eff = statistics.median(probe[1:])
            ebound = math.ceil(reqs / conc) * eff
            v = t["wall_seconds"]["median"]
            target(f"{rtt[0]} vs bound with the measured RTT ({eff * 1000:.1f} ms) = "
                   f"{ebound * 1000:.0f} ms", f"{v / ebound:.2f}x", "<= 1.25x", v / ebound <= 1.25,
                   "median wall; RTT = median of curl's warm-connection probe requests")
        if t:
            v = t["wall_seconds"]["median"]
            target(f"{rtt[0]} vs bound ceil({reqs}/{conc}) x RTT = {bound * 1000:.0f} ms",
                   f"{v / bound:.2f}x ({v * 1000:.0f} ms)", "<= 1.25x", v / bound <= 1.25,
                   "median wall at default concurrency")
    for case in cases:
        if case.startswith("ecr-"):
            t = tool(case, "imagegate-ecr")
            if t and "aws_requests" in t:
                n = cases[case]["images"]
                a = t["aws_requests"]
                bgi, dr = int(a.get("BatchGetImage", 0)), int(a.get("DescribeRepositories", 0))
                want_dr = math.ceil(n / 100)
                target(f"ECR calls ({case})", f"BatchGetImage={bgi}, DescribeRepositories={dr}",
                       f"{n}, {want_dr}", bgi == n and dr == want_dr,
                       "one BatchGetImage per repository, one DescribeRepositories per 100")
    for case, data in cases.items():
        if data["kind"] not in ("h2", "h2fast") or not data["rtt_ms"]:
            continue
        v = med(case, "imagegate")
        if v is None:
            continue
        r, reqs = data["rtt_ms"], data["tags"]
        streams = int(meta.get("h2.streams", 100))
        bound = (math.ceil(reqs / streams) + 2) * r / 1000
        target(f"{case} vs the multiplexed bound ({bound * 1000:.0f} ms)",
               f"{v / bound:.2f}x ({v * 1000:.0f} ms)", "<= 1.25x", v / bound <= 1.25,
               "median wall of the whole process")
        c16 = med(case, "curl-h2-par16")
        if c16:
            target(f"{case} vs curl --http2 --parallel-max 16", f"{c16 / v:.2f}x faster", ">= 3x",
                   c16 / v >= 3, "medians of the same run")
    ig4 = med("oci-4", "imagegate")
    curl4 = [(med("oci-4", c), c) for c in ("curl-seq", "curl-par16", "curl-par16-immediate")]
    curl4 = [c for c in curl4 if c[0]]
    if ig4 and curl4:
        best, which = min(curl4)
        target("4x3 loopback vs curl's best for the same 12 requests", f"{ig4 / best:.2f}x of {which}",
               "<= 1.0x", ig4 / best <= 1.0, "median wall of the whole process")
    t = tool("oci-1000", "imagegate")
    if t and "peak_rss_kb" in t:
        target("peak RSS at 1000 images", f"{t['peak_rss_kb'] / 1024:.1f} MiB", "<= 20 MiB",
               t["peak_rss_kb"] <= 20 * 1024, "/usr/bin/time -v, maximum resident set size")

    if targets:
        lines += ["## Targets", "", "| target | measured | limit | met |", "|---|---|---|---|"]
        for t in targets:
            lines.append(f"| {t['target']} | {t['value']} | {t['limit']} | "
                         f"{'yes' if t['met'] else '**no**'} |")
        lines.append("")
    print("\n".join(lines))
    with open(out_path, "w") as f:
        json.dump({"meta": meta, "cases": cases, "targets": targets}, f, indent=1)


if __name__ == "__main__":
    main()
