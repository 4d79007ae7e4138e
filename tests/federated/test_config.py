import pytest

from federated.config import FederationConfig, FederationConfigError, load_federation_file

BASE = {"classes": "left,right", "window-s": 2.0, "output-dir": "/tmp/out"}


def test_flat_settings_round_trip_through_the_run_config():
    config = FederationConfig.from_run_config(
        {**BASE, "rounds": "3", "resume": "true", "decoder-options": '{"depth": 1}'}
    )
    assert config.classes == ("left", "right")
    assert (config.rounds, config.resume, config.decoder_options) == (3, True, {"depth": 1})
    assert FederationConfig.from_run_config(config.to_run_config()) == config


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strategy": "fedsgd"}, "strategy 'fedsgd'"),
        ({"classes": "left"}, "2 or more distinct"),
        ({"strategy": "fedavg"}, "set channels"),
        ({"dp-noise": 1.0}, "dp-noise: set privacy = central or local"),
        ({"privacy": "central", "dp-noise": 1.0}, "needs dp-clip > 0"),
        ({"privacy": "local", "dp-clip": 1.0}, "needs dp-noise > 0 .* or target-epsilon"),
        ({"privacy": "global"}, "privacy 'global' is not one of"),
        (
            {"privacy": "local", "dp-clip": 1.0, "dp-noise": 1.0, "dp-clipping": "adaptive"},
            "adaptive is for central",
        ),
        ({"roundz": 3}, "unknown federation setting 'roundz'"),
        ({"rounds": "many"}, "rounds must be a int"),
        ({"decoder-options": "{"}, "not JSON"),
        ({"output-dir": ""}, "needs output-dir"),
    ],
)
def test_unusable_settings_are_named(settings, message):
    with pytest.raises(FederationConfigError, match=message):
        FederationConfig.from_run_config({**BASE, **settings})


def test_fedavg_needs_and_accepts_common_channels():
    config = FederationConfig.from_run_config(
        {**BASE, "strategy": "fedavg", "channels": "C3, Cz,C4", "sfreq": 250}
    )
    assert config.channels == ("C3", "Cz", "C4") and not config.personalised


def test_the_fingerprint_changes_with_what_a_resumed_run_must_share():
    config = FederationConfig.from_run_config(BASE)
    same = FederationConfig.from_run_config({**BASE, "rounds": 50, "resume": True})
    other = FederationConfig.from_run_config({**BASE, "classes": "left,right,feet"})
    assert config.fingerprint() == same.fingerprint() != other.fingerprint()


def test_a_federation_file_takes_lists_and_paths_relative_to_itself(tmp_path):
    (tmp_path / "fed").mkdir()
    path = tmp_path / "fed" / "federation.toml"
    path.write_text(
        'classes = ["left", "right"]\nwindow-s = 2\noutput-dir = "out"\n'
        'sites = ["../a.toml", "b.toml"]\nrounds = 4\n'
    )
    config = load_federation_file(path, rounds=7)
    assert config.output_dir == str(tmp_path / "fed" / "out")
    assert config.sites == (str(tmp_path / "a.toml"), str(tmp_path / "fed" / "b.toml"))
    assert config.rounds == 7 and config.window_s == 2.0


def test_a_broken_federation_file_is_named(tmp_path):
    path = tmp_path / "federation.toml"
    path.write_text("classes = [")
    with pytest.raises(FederationConfigError, match=r"federation\.toml"):
        load_federation_file(path)


def test_the_flower_app_declares_every_setting_so_runs_can_override_it():
    import tomllib
    from dataclasses import fields

    from federated.deploy.processes import APP_DIR

    app = tomllib.loads((APP_DIR / "pyproject.toml").read_text())
    declared = set(app["tool"]["flwr"]["app"]["config"])
    assert declared == {item.name.replace("_", "-") for item in fields(FederationConfig)}
    assert app["project"]["dependencies"] == []
