"""The carrier recommender: data, training spec and policy evaluation (serving: app.triage)."""
