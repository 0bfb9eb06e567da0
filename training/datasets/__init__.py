"""Adapters that turn public delivery data sets into the training-data contract."""
