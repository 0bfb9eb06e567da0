"""USPS: USPS APIs v3 through karrio."""
