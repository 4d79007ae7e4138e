from bci_app.models.registry import ModelRegistry
from bci_app.session.demo import DEMO_MODEL, demo_model, demo_workdir


def test_a_registered_demo_model_is_reused_without_training(tmp_path, model_files):
    record = ModelRegistry(tmp_path).register(model_files["plain"], DEMO_MODEL)
    assert demo_model(tmp_path, tmp_path / "work") == record
    assert not (tmp_path / "work").exists()


def test_the_demo_works_in_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert demo_workdir() == tmp_path / "bci-app" / "demo"
