"""The vocabulary every part speaks: what an operation is (spec), documented facts, errors, settings, JSON views."""
