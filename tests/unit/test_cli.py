from mnft_operator import cli


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert f"  {name} " in out


def test_unknown_command_is_a_usage_error(capsys):
    assert cli.main(["bogus"]) == 2
    assert "unknown command 'bogus'" in capsys.readouterr().err


def test_a_command_whose_package_is_not_installed_says_which_extra(capsys, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "local", ("mnft_local_absent.run_local", "main", "help"))
    monkeypatch.setitem(cli.EXTRAS, "mnft_local_absent", "local")
    assert cli.main(["local", "x.yaml"]) == 2
    assert capsys.readouterr().err == (
        "mnft local: not installed in this environment (mnft_local_absent is missing); install mnft[local]\n"
    )
