"""Users, teams, API tokens, sign-in sessions, collection grants, access decisions and rate
limits.
"""
