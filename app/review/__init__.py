"""Customer-reply drafts and the human review queue: claims, edits, decisions, ratings,
statistics and the signed webhooks that hand approved text to ticketing.
"""
