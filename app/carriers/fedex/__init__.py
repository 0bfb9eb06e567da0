"""FedEx: REST APIs through karrio, Advanced Integrated Visibility push."""
