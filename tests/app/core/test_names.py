from app.core.names import NAME, USERNAME


def test_a_name_never_ends_in_a_newline() -> None:
    assert NAME.match("kb-it") and USERNAME.match("j.devries")
    assert not NAME.match("kb\n") and not USERNAME.match("jan\n")
