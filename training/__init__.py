"""Training pipeline: data, features, train, evaluate, register."""
