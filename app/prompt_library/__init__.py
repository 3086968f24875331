"""The governed prompt library: versions in zones (exploration, pilot, production), gated
promotion and rollback.
"""
