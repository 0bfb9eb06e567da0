"""DHL Express: MyDHL REST API through karrio."""
