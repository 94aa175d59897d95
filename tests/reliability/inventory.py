"""What the reliability suite covers, counted for the docs.

The tests assert that these lists match what they run, and the ``reliability-counts``
directive renders the numbers on the reliability page, so the counts are written once.
"""

from __future__ import annotations

from shiptrack_sdk._providers import all_specs

_SPECS = list(all_specs())

#: Fuzzed parser or normalizer → how many property tests run on it (parametrizations). Error
#: bodies, envelopes and status maps are fuzzed once per registered provider's spec.
FUZZ_TARGETS: dict[str, int] = {
    "shiplemon_tracking_get": 1,
    "shiplemon_tracking_update_answer": 1,
    "exporto_shipments_get": 1,
    "exporto_shipments_search_page": 1,
    "exporto_tours_list": 1,
    "exporto_tours_get": 1,
    "lex_orders_fetch_page": 1,
    "lex_orders_send_answer": 1,
    "lex_push_bodies": 1,
    "oauth2_token_answers": 1,
    "error_bodies": 1 + len(_SPECS),  # the default parser, then each provider's
    "envelopes": len(_SPECS),
    "introspection_answers": 1,
    "checkpoint_cursor_files": 1,
    "retry_after_values": 1,
    "datetimes": 1,
    "status_maps": sum(1 for spec in _SPECS if spec.status_map is not None),
    "round_trip": 7,
    "lex_tracking_messages_round_trip": 1,
}

#: Examples per property test in CI (the ``reliability`` Hypothesis profile).
EXAMPLES_PER_TEST = 1000

#: The secrets planted by the secrets test, each checked for in every log record, error,
#: ``repr`` and ``str`` of the calls it makes.
SENTINELS: tuple[str, ...] = (
    "shiplemon API key",
    "exporto client secret",
    "exporto access tokens",
    "exporto HTTP Basic credentials",
    "LEX client secret",
    "LEX access tokens",
    "push bearer token",
    "push introspection client secret",
)


def fuzz_tests() -> int:
    """How many property tests the fuzz suite runs."""
    return sum(FUZZ_TARGETS.values())


#: The crash tests run with real processes killed by SIGKILL: what each proves, and how many
#: kills one run of it makes. ``test_inventory_crash_trials`` checks the counts against the
#: test modules.
CRASH_TRIALS: dict[str, int] = {
    "LEX send journal: a sender killed at random moments, then resumed "
    "(tests/lex/test_journal_crash.py)": 24,
    "checkpoint: a process killed between the temporary write and the rename "
    "(tests/lex/test_checkpoint.py)": 2,
    "push de-duplication: a worker killed while it holds a claim (tests/lex/test_push_dedup.py)": 1,
    "watcher: a polling and handing-over process killed at random moments, then resumed "
    "(tests/watch/test_crash.py)": 24,
}
