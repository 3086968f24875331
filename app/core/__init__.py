"""What every feature stands on: settings, domain errors, the principal, the database engine and
the declarative base with its one UTC time type. Imports no feature.
"""
