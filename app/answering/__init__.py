"""The answer service (retrieval -> prompt -> LLM -> grounded, cited answer), the grounding
checks, the single LLM worker and the answer record.
"""
