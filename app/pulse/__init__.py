"""The NPS pulse: a 0-10 question shown to each person at most once per period."""
