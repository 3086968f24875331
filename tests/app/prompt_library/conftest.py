import pytest


@pytest.fixture(autouse=True, scope="module")
def _first_versions_only(one_version_library: object) -> None:
    """These tests make and promote their own versions (see ``one_version_library``)."""
