"""PyAirbyte with source-intercom: read every stream of a fake Intercom workspace into PyAirbyte's
default cache (DuckDB), then read again with the state PyAirbyte saved, and check what arrived.

    python pyairbyte_check.py --connector target/release/source-intercom \
        --fake target/release/fake-intercom --work DIR [--image IMAGE]

With --image, PyAirbyte runs the connector's image with `docker` (on the host network) instead of
the binary. Run by scripts/pyairbyte-test.sh, in a venv with the pinned PyAirbyte.

What changes between the two reads: Intercom's contact search lags behind writes. The first read
goes to a workspace whose clock stands 10 minutes after its last contacts but one (the fake's
--clock-offset-secs) and whose search does not show the contacts updated in those 10 minutes and
after (--search-index-delay-secs); the second to the same workspace (same seed) on today's clock,
with every contact searchable. The connector keeps its saved positions `search_index_lag_minutes`
(30) behind the sync's start on Intercom's clock, so the second read must bring exactly the records
at or after the cursors PyAirbyte saved: for contacts, the newly searchable ones (and the records
of the last half hour before the first read, read again by design); for the other incremental
streams, nothing but the records at or after the saved position.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# The workspace: the sizes the fake is told to generate (the others are its defaults).
SIZES = {
    "contacts": 150,
    "companies": 40,
    "conversations": 60,
    "tickets": 30,
    "activity_logs": 200,
    "articles": 45,
}
# Where a child stream's record keeps the parent cursor that its state saves as `updated_at`.
CHILD_CURSOR = {"conversation_parts": "updated_at", "company_segments": "updated_at"}

passed = []
problems = []


def expect(ok, what):
    print(("ok   - " if ok else "FAIL - ") + what)
    (passed if ok else problems).append(what)


def start_fake(fake, token, *flags):
    # Reporting export jobs are complete at the first poll (`cargo test` covers slow ones).
    proc = subprocess.Popen(
        [fake, "--port", "0", "--token", token, "--report-job-polls", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return proc, proc.stdout.readline().strip()


def binary_read(connector, config, streams=None):
    """Records of a full-refresh read by the binary itself, by stream."""
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp, "config.json")
        config_path.write_text(json.dumps(config))
        discover = subprocess.run(
            [connector, "discover", "--config", config_path], capture_output=True, text=True, check=True
        )
        catalog = next(json.loads(l)["catalog"] for l in discover.stdout.splitlines() if '"CATALOG"' in l)
        catalog_path = Path(tmp, "catalog.json")
        catalog_path.write_text(json.dumps({"streams": [
            {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for s in catalog["streams"]
            if streams is None or s["name"] in streams
        ]}))
        read = subprocess.run(
            [connector, "read", "--config", config_path, "--catalog", catalog_path],
            capture_output=True, text=True, check=True,
        )
    records = {}
    for line in read.stdout.splitlines():
        m = json.loads(line)
        if m["type"] == "RECORD":
            records.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
    return records, {s["name"]: s for s in catalog["streams"]}


def extracted_at(table):
    """When PyAirbyte wrote each row (stored without a time zone, in UTC)."""
    import pandas

    return pandas.to_datetime(table["_airbyte_extracted_at"], utc=True)


def expected_rows(records, stream, incremental):
    """Rows PyAirbyte's cache holds after these records: incremental streams are merged on their
    primary key, full-refresh streams replaced by what was read."""
    pk = [p[0] for p in stream["source_defined_primary_key"]]
    if not incremental or not pk:
        # Without a primary key (some report streams), PyAirbyte appends.
        return len(records)
    return len({tuple(json.dumps(r.get(f)) for f in pk) for r in records})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connector", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--image")
    args = ap.parse_args()
    connector, fake = str(Path(args.connector).resolve()), str(Path(args.fake).resolve())

    # PyAirbyte keeps its default cache under the project dir; this connector is not in Airbyte's
    # registry and this machine reaches no registry: work offline (no registry, no telemetry).
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ["AIRBYTE_PROJECT_DIR"] = str(work)
    os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["NO_LIVE_PROGRESS"] = "1"
    import airbyte as ab

    token = "pyairbyte-" + secrets.token_hex(8)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SIZES.items()]
    fakes = []
    try:
        full, full_url = start_fake(fake, token, *flags)
        fakes.append(full)
        config = lambda url: {"access_token": token, "start_date": "2020-01-01T00:00:00Z", "base_url": url}

        # Where the search index lags: between two contacts' updated_at, about 80% of the way; the
        # lagging workspace's clock stands 10 minutes after it, and its search trails by 10 minutes.
        contacts = sorted(c["updated_at"] for c in binary_read(connector, config(full_url), ["contacts"])[0]["contacts"])
        i = int(len(contacts) * 0.8)
        while contacts[i + 1] - contacts[i] < 3600:
            i += 1
        cut = (contacts[i] + contacts[i + 1]) // 2
        offset = cut + 600 - int(time.time())
        lagging, lag_url = start_fake(
            fake, token, *flags, f"--clock-offset-secs={offset}", "--search-index-delay-secs=600"
        )
        fakes.append(lagging)
        newer = [c for c in contacts if c > cut]
        print(f"workspace: {SIZES}; the first read's contact search lacks the {len(newer)} contacts updated last")

        how = {"docker_image": args.image, "use_host_network": True} if args.image else {"local_executable": connector}
        cache = ab.get_default_cache()
        print(f"PyAirbyte {ab.__version__ if hasattr(ab, '__version__') else ''} default cache: {cache.db_path}")

        def read(url):
            source = ab.get_source("source-intercom", config=config(url), **how)
            source.select_all_streams()
            start = datetime.now(timezone.utc)
            result = source.read(cache=cache)
            return source, result, start

        def rows(stream):
            return cache[stream].to_pandas()

        # 1. Every stream, from the workspace whose search lags.
        source, result, _ = read(lag_url)
        expected, streams = binary_read(connector, config(lag_url))
        print(f"first read: {result.processed_records} records")
        incremental = {n for n, s in streams.items() if "incremental" in s["supported_sync_modes"]}
        for name, stream in sorted(streams.items()):
            want = expected_rows(expected.get(name, []), stream, name in incremental)
            got = len(rows(name))
            expect(got == want and got > 0, f"first read: {name} has {got} rows, the binary reads {want}")
        for name, n in SIZES.items():
            want = n - len(newer) if name == "contacts" else n
            expect(len(rows(name)) == want, f"first read: {name} has the workspace's {want} rows")

        first_rows = {name: len(rows(name)) for name in streams}

        # The state PyAirbyte saved, as it passes it to the connector's --state.
        saved_state = json.loads(cache.get_state_provider("source-intercom").to_state_input_file_text())
        state = {m["stream"]["stream_descriptor"]["name"]: m["stream"]["stream_state"] for m in saved_state}
        expect(incremental <= set(state), f"PyAirbyte saved a state for every incremental stream ({len(incremental)})")

        # 2. Again, with PyAirbyte's saved state, from the workspace with every contact searchable.
        source, result, start = read(full_url)
        expected, _ = binary_read(connector, config(full_url))
        print(f"second read: {result.processed_records} records")
        for name, stream in sorted(streams.items()):
            table = rows(name)
            brought = table[extracted_at(table) >= start]
            if name.startswith("report_"):
                # Intercom keeps two years of reporting data, counted from each workspace's clock:
                # the first read (the lagging workspace's clock, months behind) reaches rows the
                # binary's read of today's workspace no longer exports. The table keeps them and
                # adds the rows since the saved position.
                want = first_rows[name] + len(brought)
                expect(
                    len(table) == want,
                    f"after the second read: {name} has {len(table)} rows, the first read's {first_rows[name]} and the {len(brought)} brought",
                )
            else:
                want = expected_rows(expected.get(name, []), stream, name in incremental)
                expect(len(table) == want, f"after the second read: {name} has {len(table)} rows, the binary reads {want}")
            if name not in incremental:
                expect(len(brought) == len(table), f"second read: {name} (full refresh) read again in full")
                continue
            cursor_field = stream["default_cursor_field"][0]
            saved = state[name][CHILD_CURSOR.get(name, cursor_field)]
            due = table[table[cursor_field] >= saved]
            # Rows are told apart by their primary key, or by all their columns without one.
            pk = [p[0] for p in stream["source_defined_primary_key"]] or [
                c for c in table.columns if not c.startswith("_airbyte_")
            ]
            key = lambda df: set(map(tuple, df[pk].astype(str).values.tolist()))
            expect(
                key(brought) == key(due),
                f"second read: {name} brought {len(brought)} of {len(table)} rows, exactly those at or after its saved {cursor_field} {saved}",
            )
        contacts_brought = rows("contacts")
        contacts_brought = contacts_brought[extracted_at(contacts_brought) >= start]
        expect(
            set(contacts_brought["updated_at"]) >= set(newer),
            f"second read: contacts brought the {len(newer)} newly searchable contacts",
        )
        for name, n in SIZES.items():
            expect(len(rows(name)) == n, f"after the second read: {name} has the workspace's {n} rows")
    finally:
        for p in fakes:
            p.kill()

    print(f"{len(passed)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
