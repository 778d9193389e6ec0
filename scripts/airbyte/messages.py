"""Small tools over Airbyte messages (one JSON message a line), for the shell scripts.

    messages.py catalog DISCOVER_OUTPUT full_refresh|incremental   a configured catalog of every
                                                                   stream (that supports the mode)
    messages.py state READ_OUTPUT                                  the last STATE of each stream, as
                                                                   the platform passes it to --state
    messages.py records READ_OUTPUT                                the records, one `stream<TAB>data`
                                                                   line each (keys sorted), sorted
    messages.py counts READ_OUTPUT                                 records per stream
    messages.py after-state CATALOG STATE READ_OUTPUT              fail unless every record of an
                                                                   incremental stream is at or after
                                                                   its saved cursor
"""

import json
import sys
from collections import Counter


def messages(path):
    with open(path) as f:
        for line in f:
            yield json.loads(line)


def catalog(discover_output, mode):
    streams = []
    for m in messages(discover_output):
        if m["type"] != "CATALOG":
            continue
        for s in m["catalog"]["streams"]:
            if mode in s["supported_sync_modes"]:
                streams.append({
                    "stream": s,
                    "sync_mode": mode,
                    "destination_sync_mode": "append" if mode == "incremental" else "overwrite",
                })
    return {"streams": streams}


def last_states(read_output):
    by_stream = {}
    for m in messages(read_output):
        if m["type"] == "STATE":
            by_stream[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
    return list(by_stream.values())


def records(read_output):
    lines = [
        m["record"]["stream"] + "\t" + json.dumps(m["record"]["data"], sort_keys=True)
        for m in messages(read_output)
        if m["type"] == "RECORD"
    ]
    return sorted(lines)


def counts(read_output):
    return Counter(m["record"]["stream"] for m in messages(read_output) if m["type"] == "RECORD")


def state_key(stream):
    """The key a stream saves its position under (child streams save the parent's `updated_at`)."""
    if stream["name"] in ("conversation_parts", "company_segments"):
        return "updated_at"
    return stream["default_cursor_field"][0]


def after_state(catalog_path, state_path, read_output):
    with open(catalog_path) as f:
        streams = {c["stream"]["name"]: c["stream"] for c in json.load(f)["streams"]}
    with open(state_path) as f:
        cursors = {
            s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]
            for s in json.load(f)
        }
    problems = []
    checked = 0
    for m in messages(read_output):
        if m["type"] != "RECORD" or m["record"]["stream"] not in cursors:
            continue
        stream = streams[m["record"]["stream"]]
        saved = cursors[stream["name"]].get(state_key(stream))
        value = m["record"]["data"].get(stream["default_cursor_field"][0])
        checked += 1
        if saved is not None and (value is None or value < saved):
            problems.append(f"{stream['name']}: record at {value} before the saved cursor {saved}")
    for p in problems[:20]:
        print(p)
    print(f"{checked} records checked against their saved cursors, {len(problems)} before them")
    return not problems


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "catalog":
        print(json.dumps(catalog(*args)))
    elif cmd == "state":
        print(json.dumps(last_states(*args)))
    elif cmd == "records":
        for line in records(*args):
            print(line)
    elif cmd == "counts":
        for stream, n in sorted(counts(*args).items()):
            print(f"{stream} {n}")
    elif cmd == "after-state":
        return 0 if after_state(*args) else 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
