"""The order drain, in a process of its own (``python -m benchmarks._drain COUNT``).

The client is configured from the ``SHIPTRACK_LEX_*`` environment. It prints one JSON object:
messages drained, seconds, and how much the drain grew the process's memory at its peak: the
peak resident set size at the end, less the resident set size before the drain (a fresh
process, so no other work's peak is in the figure).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time

from shiptrack_sdk.lex import LexClient

MB = 1024 * 1024


def _peak_rss() -> int:
    # VmHWM is this process's own peak. ru_maxrss is not, on Linux: a process started by
    # fork and exec inherits the peak of its parent at the fork, which here is the
    # benchmark process, bigger than the drain.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _rss() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far stands in (the figure can only grow)
        return _peak_rss()


def main(count: int) -> dict[str, float]:
    client = LexClient()
    client.orders.fetch(1)  # the token, the connection, the model hooks: not the drain's
    gc.collect()
    rss_before = _rss()
    start = time.perf_counter()
    cpu_start = time.process_time()
    drained = 0
    last = ""
    for message in client.orders.iter_messages():
        # Each message once, in order: the drain is only worth measuring if it is right.
        if not (message.id and message.id > last):
            raise RuntimeError(f"message {message.id!r} after {last!r}")
        last = message.id
        drained += 1
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    growth = max(0, _peak_rss() - rss_before)
    client.close()
    if drained != count:
        raise RuntimeError(f"drained {drained} messages of {count}")
    return {
        "messages": drained,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rss_before_mb": rss_before / MB,
        "rss_growth_mb": growth / MB,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
