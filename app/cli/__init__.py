"""The ``vraagbaak`` command line: a second front door over the same services, one module per
command group.
"""
