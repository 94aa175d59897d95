"""Settings of the reliability suite.

The ``reliability`` Hypothesis profile runs every fuzzed parser on at least 1,000 examples
(``SHIPTRACK_FUZZ_EXAMPLES`` raises or lowers it), without a per-example deadline: the machine
running CI may be slow, and a slow example is not a failure. The fuzz tests apply it with
``@settings(parent=...)``, so other suites keep their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = "reliability"

settings.register_profile(
    PROFILE,
    max_examples=int(os.environ.get("SHIPTRACK_FUZZ_EXAMPLES", "1000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
