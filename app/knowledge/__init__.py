"""Collections (document folders), incremental indexing, re-index jobs, index snapshots and
hybrid search: what the assistant knows and how it is found.
"""
