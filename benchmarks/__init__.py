"""shiptrack-sdk's benchmark suite (``python -m benchmarks``)."""
