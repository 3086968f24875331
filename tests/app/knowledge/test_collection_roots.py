"""A collection made from the web pages stays inside the configured document roots: a folder
outside them (``..``, an absolute path, a symbolic link out) is refused and nothing is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import Conflict, InvalidInput
from app.wiring import Services
from tests.conftest import write_kb


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "docs"
    write_kb(root / "support")
    outside = write_kb(tmp_path / "private")
    return root, outside


def test_a_folder_under_a_root_becomes_a_collection(services: Services,
                                                    roots: tuple[Path, Path]) -> None:
    root, _ = roots
    made = services.collections.create_under([root], root, "support", "support", "en")
    assert Path(made.root) == (root / "support").resolve()
    assert made.language == "en"
    assert "support" in services.collections.names()


def test_the_root_itself_may_be_a_collection(services: Services,
                                             roots: tuple[Path, Path]) -> None:
    root, _ = roots
    made = services.collections.create_under([root], root, "", "all", "nl")
    assert Path(made.root) == root.resolve()


@pytest.mark.parametrize("folder", ["../private", "support/../../private", "..", "/etc",
                                    "//etc", "\\etc"])
def test_a_folder_outside_the_root_is_refused(services: Services, roots: tuple[Path, Path],
                                              folder: str) -> None:
    root, _ = roots
    with pytest.raises(InvalidInput):
        services.collections.create_under([root], root, folder, "leak", "en")
    assert "leak" not in services.collections.names()


def test_an_absolute_path_inside_the_root_is_refused_too(services: Services,
                                                         roots: tuple[Path, Path]) -> None:
    root, _ = roots
    with pytest.raises(InvalidInput, match="relative"):
        services.collections.create_under([root], root, str(root / "support"), "abs", "en")
    assert "abs" not in services.collections.names()


def test_a_symbolic_link_out_of_the_root_is_refused(services: Services,
                                                    roots: tuple[Path, Path]) -> None:
    root, outside = roots
    (root / "sneaky").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput, match="outside"):
        services.collections.create_under([root], root, "sneaky", "leak", "en")
    assert "leak" not in services.collections.names()


def test_a_root_that_is_not_configured_is_refused(services: Services,
                                                  roots: tuple[Path, Path]) -> None:
    root, outside = roots
    with pytest.raises(InvalidInput, match="not one of the document roots"):
        services.collections.create_under([root], outside, "", "leak", "en")


def test_no_roots_means_web_creation_is_disabled(services: Services,
                                                 roots: tuple[Path, Path]) -> None:
    root, _ = roots
    with pytest.raises(InvalidInput, match="disabled"):
        services.collections.create_under([], root, "support", "support", "en")


def test_a_missing_folder_or_a_taken_name_is_refused(services: Services,
                                                     roots: tuple[Path, Path]) -> None:
    root, _ = roots
    with pytest.raises(InvalidInput, match="does not exist"):
        services.collections.create_under([root], root, "nope", "nope", "en")
    services.collections.create_under([root], root, "support", "support", "en")
    with pytest.raises(Conflict):
        services.collections.create_under([root], root, "", "support", "en")
    assert Path(services.collections.get("support").root) == (root / "support").resolve()
