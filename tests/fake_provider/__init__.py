"""Fake Parcels: a provider that exists only in the tests.

It is the proof that adding a provider touches its own package, one line of the registry, its
tests and its guide: ``tests/test_fake_provider.py`` adds ``"tests.fake_provider.spec:SPEC"``
to :data:`shiptrack_sdk._providers.SPECS` and runs the cross-provider suites on it unchanged.
The docs page "Adding a provider" walks through it.

The package stays light: its spec is imported to read the registry, so this module imports
nothing (the client, the sandbox app and the command-line part are named by the spec).
"""
