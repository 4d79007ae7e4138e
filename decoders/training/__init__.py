"""Training machinery shared by every torch decoder."""
