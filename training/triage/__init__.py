"""Exception triage: data, synthetic wording, training, leave-one-family-out evaluation.

See ``training/triage/README.md``; serving code lives in ``app/triage`` (``classifier*``,
``routing``, ``text``).
"""
