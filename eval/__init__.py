"""Evaluation: question sets, retrieval metrics, and importers for public evaluation sets."""
