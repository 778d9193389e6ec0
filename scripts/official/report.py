"""Helpers of scripts/official-vs.sh (plain python3, standard library only).

    report.py catalog DISCOVER_OUT STREAM CATALOG_OUT
        the configured catalog: STREAM exactly as `discover` described it, in
        full_refresh / overwrite.
    report.py scan READ_OUT SCAN_JSON
        what a `read` wrote: RECORD lines per stream, distinct `id`s per stream, each
        stream's last STREAM_STATUS, ERROR traces, the number of RATE_LIMITED statuses.
    report.py summarize WORK_DIR RESULTS_JSON
        every run under WORK_DIR (RUN/{meta,measure,fake-stats,scan}.json) into
        RESULTS_JSON, and a markdown table on stdout.
"""

import json
import os
import statistics
import sys

RECORD_PREFIXES = (b'{"type":"RECORD"', b'{"type": "RECORD"')


def catalog(discover_out, stream, out):
    found = None
    with open(discover_out, "rb") as f:
        for line in f:
            if not line.startswith(b"{"):
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("type") == "CATALOG":
                for s in msg["catalog"]["streams"]:
                    if s.get("name") == stream:
                        found = s
    if found is None:
        sys.exit(f"report.py: discover listed no stream {stream!r} ({discover_out})")
    if "full_refresh" not in found.get("supported_sync_modes", []):
        sys.exit(f"report.py: {stream} does not support full_refresh")
    configured = {
        "streams": [
            {"stream": found, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
        ]
    }
    with open(out, "w") as f:
        json.dump(configured, f)


def scan(read_out, out):
    records, ids, status, errors = {}, {}, {}, []
    rate_limited = 0
    other_lines = 0
    with open(read_out, "rb") as f:
        for line in f:
            if line.startswith(RECORD_PREFIXES):
                try:
                    rec = json.loads(line)["record"]
                except (ValueError, KeyError):
                    other_lines += 1
                    continue
                stream = rec.get("stream", "?")
                records[stream] = records.get(stream, 0) + 1
                rid = (rec.get("data") or {}).get("id")
                if rid is not None:
                    ids.setdefault(stream, set()).add(str(rid))
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                other_lines += 1
                continue
            if msg.get("type") != "TRACE":
                continue
            trace = msg.get("trace") or {}
            if trace.get("type") == "STREAM_STATUS":
                st = trace.get("stream_status") or {}
                name = (st.get("stream_descriptor") or {}).get("name", "?")
                status[name] = st.get("status")
                for r in st.get("reasons") or []:
                    if (r or {}).get("type") == "RATE_LIMITED":
                        rate_limited += 1
            elif trace.get("type") == "ERROR":
                err = trace.get("error") or {}
                errors.append(
                    {
                        "message": str(err.get("message"))[:300],
                        "internal_message": str(err.get("internal_message"))[:300],
                        "failure_type": err.get("failure_type"),
                    }
                )
    result = {
        "records": sum(records.values()),
        "records_per_stream": records,
        "distinct_ids_per_stream": {k: len(v) for k, v in ids.items()},
        "stream_status": status,
        "errors": errors[:10],
        "error_count": len(errors),
        "rate_limited_statuses": rate_limited,
        "unparsable_lines": other_lines,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def mb(b):
    return f"{b / 1e6:.1f} MB" if b is not None else "–"


def thousands(n):
    return f"{n:,}" if n is not None else "–"


def meta0_rpm(work):
    return load(os.path.join(work, "..", "setup.json"), {}).get("requests_per_minute")


def summarize(work, results_path):
    runs = []
    for name in sorted(os.listdir(work)):
        d = os.path.join(work, name)
        meta = load(os.path.join(d, "meta.json"))
        if not meta or meta.get("kind") != "timed":
            continue
        m = load(os.path.join(d, "measure.json"), {})
        stats = load(os.path.join(d, "fake-stats.json"), {})
        sc = load(os.path.join(d, "scan.json"), {})
        records = sc.get("records", 0)
        wall = m.get("wall_s")
        stream = meta["stream"]
        rpm = meta0_rpm(work)
        requests = stats.get("requests")
        ok = (
            m.get("exit_code") == 0
            and not m.get("timed_out")
            and sc.get("error_count", 1) == 0
            and sc.get("stream_status", {}).get(stream) == "COMPLETE"
        )
        runs.append(
            {
                "connector": meta["connector"],
                "run": meta["run"],
                "command": meta["command"],
                "ok": ok,
                "exit_code": m.get("exit_code"),
                "timed_out": m.get("timed_out"),
                "records": records,
                "distinct_ids": sc.get("distinct_ids_per_stream", {}).get(stream),
                "expected_records": meta["contacts"],
                "stream_status": sc.get("stream_status", {}).get(stream),
                "wall_s": wall,
                "records_per_s": records / wall if wall else None,
                "user_s": m.get("user_s"),
                "sys_s": m.get("sys_s"),
                "peak_rss_bytes": m.get("peak_rss_bytes"),
                "requests": stats.get("requests"),
                "limiter_rejections_429": stats.get("limiter_rejections"),
                # The least time the fake's limit allows for this many requests.
                "rate_bound_s": requests / (rpm / 60) if requests and rpm else None,
                "unauthorized_401": stats.get("unauthorized"),
                "fake_max_in_flight": stats.get("max_in_flight"),
                "rate_limited_statuses": sc.get("rate_limited_statuses"),
                "errors": sc.get("errors", []),
                "fake_stats": stats,
                "loadavg_1min_before": meta.get("loadavg_1min_before"),
                "loadavg_1min_after": meta.get("loadavg_1min_after"),
            }
        )
    if not runs:
        sys.exit("report.py: no timed runs found")
    meta0 = load(os.path.join(work, "..", "setup.json"), {})
    by = {}
    for r in runs:
        by.setdefault(r["connector"], []).append(r)

    def med(conn, key):
        vals = [r[key] for r in by.get(conn, []) if r[key] is not None]
        return statistics.median(vals) if vals else None

    summary = {
        c: {
            "runs": len(rs),
            "all_ok": all(r["ok"] for r in rs),
            "median_wall_s": med(c, "wall_s"),
            "median_records_per_s": med(c, "records_per_s"),
            "median_requests": med(c, "requests"),
            "median_429s": med(c, "limiter_rejections_429"),
            "max_peak_rss_bytes": max((r["peak_rss_bytes"] or 0) for r in rs),
        }
        for c, rs in by.items()
    }
    ratios = {}
    if "ours" in summary and "official" in summary:
        o, t = summary["ours"], summary["official"]
        if o["median_records_per_s"] and t["median_records_per_s"]:
            ratios["records_per_s_ours_over_official"] = (
                o["median_records_per_s"] / t["median_records_per_s"]
            )
        if o["median_requests"] and t["median_requests"]:
            ratios["requests_ours_over_official"] = o["median_requests"] / t["median_requests"]
        if o["median_wall_s"] and t["median_wall_s"]:
            ratios["wall_official_over_ours"] = t["median_wall_s"] / o["median_wall_s"]
    results = {"setup": meta0, "runs": runs, "summary": summary, "ratios": ratios}
    with open(results_path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")

    label = {"ours": "ours (Rust)", "official": "official 0.8.3 (Python)"}
    multi = max(len(rs) for rs in by.values()) > 1
    print(
        f"\n{thousands(meta0.get('contacts'))} contacts, full refresh of `contacts`, "
        f"latency {meta0.get('latency_ms')} ms, fake limit {thousands(meta0.get('requests_per_minute'))}"
        f"/min in {meta0.get('window_ms', 0) / 1000:g} s windows\n"
    )
    print("| connector | records | wall s | records/s | requests | 429s | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(runs, key=lambda r: (r["connector"] != "ours", r["run"])):
        name = label.get(r["connector"], r["connector"])
        if multi:
            name += f" #{r['run']}"
        if not r["ok"]:
            name += " (FAILED)" if not r["timed_out"] else " (TIMED OUT)"
        rps = r["records_per_s"]
        print(
            f"| {name} | {thousands(r['records'])} | {r['wall_s']:.2f} | "
            f"{thousands(round(rps)) if rps is not None else '–'} | {thousands(r['requests'])} | "
            f"{thousands(r['limiter_rejections_429'])} | {mb(r['peak_rss_bytes'])} |"
        )
    print()
    if ratios:
        which = " (medians of the runs)" if multi else ""
        if "records_per_s_ours_over_official" in ratios:
            print(
                f"records/s, ours / official{which}: "
                f"{ratios['records_per_s_ours_over_official']:.1f}x"
            )
        if "requests_ours_over_official" in ratios:
            print(
                f"requests, ours / official{which}: "
                f"{ratios['requests_ours_over_official']:.2f}"
            )
    loads = [x for r in runs for x in (r["loadavg_1min_before"], r["loadavg_1min_after"]) if x is not None]
    if loads:
        print(
            f"1-min load average around the reads: {min(loads):.2f} to {max(loads):.2f} "
            f"on {meta0.get('cpus', '?')} CPUs"
        )
    for r in runs:
        notes = []
        if r["records"] != r["expected_records"]:
            notes.append(f"read {thousands(r['records'])} of {thousands(r['expected_records'])} contacts")
        if r["distinct_ids"] is not None and r["distinct_ids"] != r["records"]:
            notes.append(f"{thousands(r['distinct_ids'])} distinct ids")
        if r["timed_out"]:
            notes.append("timed out")
        if r["exit_code"] not in (0, None) and not r["timed_out"]:
            notes.append(f"exit code {r['exit_code']}")
        if r["stream_status"] != "COMPLETE":
            notes.append(f"last stream status {r['stream_status']}")
        if r["rate_bound_s"] and r["wall_s"] and r["wall_s"] < 1.5 * r["rate_bound_s"]:
            notes.append(
                f"rate-bound: {r['requests']} requests need at least {r['rate_bound_s']:.2f} s "
                f"at {thousands(meta0.get('requests_per_minute'))}/min"
            )
        if r["rate_limited_statuses"]:
            notes.append(f"{r['rate_limited_statuses']} RATE_LIMITED statuses")
        for e in r["errors"][:2]:
            notes.append(f"error: {e['message']}")
        if notes:
            print(f"note, {r['connector']} run {r['run']}: " + "; ".join(notes))
    print(f"\nraw numbers: {results_path}")


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "catalog" and len(sys.argv) == 5:
        catalog(*sys.argv[2:])
    elif cmd == "scan" and len(sys.argv) == 4:
        scan(*sys.argv[2:])
    elif cmd == "summarize" and len(sys.argv) == 4:
        summarize(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
