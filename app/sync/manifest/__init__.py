"""End-of-day manifest and close-out per carrier account."""
