"""Fitted laws: power law, scaling laws (chinchilla, kaplan), broken power law, critical point."""
