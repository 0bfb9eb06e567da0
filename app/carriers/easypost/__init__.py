"""EasyPost: multi-carrier platform with signed tracker webhooks."""
