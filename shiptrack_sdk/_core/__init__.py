"""The shared core: transport, tokens, errors from answers, conversion, validation, status maps.

Nothing here knows a provider: providers plug in through a :class:`~.spec.ProviderSpec`.
"""
