"""Evaluation runs over question sets as background jobs, the set library, and the runners that
drive search and answering for ``eval``'s pure metrics.
"""
