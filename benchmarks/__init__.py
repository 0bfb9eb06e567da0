"""Business-scenario benchmarks: each prints one JSON object with its baseline and ratio."""
