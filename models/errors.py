"""Errors of the model layer. ``ModelNotFound`` carries an admin-facing hint, never a path
that was not given by the admin."""


class ModelError(Exception):
    """Base class for model problems."""


class ModelNotFound(ModelError):
    """The configured model could not be found locally."""


class ModelUnavailable(ModelError):
    """The model backend failed while answering (e.g. the inference server is down)."""
