"""Tracking: carrier events in, canonical milestones and exceptions out."""
