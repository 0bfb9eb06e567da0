"""The ML platform: model specs, the train -> evaluate -> log -> register pipeline, promotion.

``training.platform.spec`` is the contract each model implements (``ModelSpec``);
``training.platform.specs`` finds them by name; ``training.platform.pipeline`` trains, logs to
MLflow and registers (``train``) and promotes by alias behind a gate (``promote``).
"""
