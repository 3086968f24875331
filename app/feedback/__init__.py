"""Feedback on answers: a person's vote, reasons, comment and outcome on an answer they can
see."""
