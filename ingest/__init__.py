"""Ingestion: folders of documents in, chunks with provenance and index snapshots out.

The flow is scan (which files changed, by sha256) -> load (file -> sections with page and
heading provenance) -> chunk (sections -> overlapping, structure-aware chunks with stable ids)
-> embed -> SQL rows (the source of truth) -> a new index snapshot (FAISS + BM25) that becomes
current through an atomic pointer switch.
"""
