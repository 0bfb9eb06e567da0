"""UPS: OAuth REST API through karrio, Track Alert push."""
