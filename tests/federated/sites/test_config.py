import pytest

from federated.sites.config import SiteConfigError, load_site


def write(tmp_path, text):
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def test_a_site_file_names_data_montage_labels_and_splits(tmp_path):
    path = write(
        tmp_path,
        """
[site]
name = "hospital-a"
state_dir = "state"
[data]
recordings = ["run1.edf", "sub/run2.vhdr"]
tmin = 0.5
tmax = 2.5
[data.partition]
index = 1
weights = [2, 1]
[montage]
channels = ["C3", "Cz", "C4"]
types = ["eeg"]
rename = { "EEG C3" = "C3" }
sfreq = 250
[labels]
map = { T1 = "left_hand", T2 = "right_hand" }
drop = ["rest"]
[split]
validation = 0.3
test = 0.1
seed = 4
""",
    )
    site = load_site(path)
    assert site.name == "hospital-a" and site.state_dir == tmp_path / "state"
    assert site.source.kind == "recordings"
    assert site.source.target == (tmp_path / "run1.edf", tmp_path / "sub" / "run2.vhdr")
    assert (site.source.tmin, site.source.tmax) == (0.5, 2.5)
    assert site.partition.index == 1 and site.partition.weights == (2.0, 1.0)
    assert site.channels == ("C3", "Cz", "C4") and site.types == ("eeg",)
    assert site.rename == {"EEG C3": "C3"} and site.sfreq == 250.0
    assert site.label_map == {"T1": "left_hand", "T2": "right_hand"} and site.drop == ("rest",)
    assert (site.validation, site.test, site.split_seed) == (0.3, 0.1, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[data]\n", "exactly one source"),
        ('[data]\ntrial_set = "X"\nsimulator = "motor_imagery"\n', "exactly one source"),
        ('[data]\nrecordings = ["a.edf"]\n', "need tmin and tmax"),
        ('[data]\ntrial_set = "X"\ncolour = 3\n', "unknown setting.*colour"),
        ('[data]\ntrial_set = "X"\n[extra]\n', "unknown section"),
        ('[data]\ntrial_set = "X"\n[split]\nvalidation = 1.5\n', "validation must be"),
        ('[data]\ntrial_set = "X"\n[split]\nvalidation = 0.5\ntest = 0.5\n', "leave training"),
        ('[data]\ntrial_set = "X"\n[data.partition]\nindex = 2\nweights = [1, 1]\n', "index 2"),
        (
            '[data]\ntrial_set = "X"\n[labels]\nmap = {a = "b"}\ndrop = ["a"]\n',
            "mapped and dropped",
        ),
        ("[data\n", "not valid TOML"),
    ],
)
def test_unusable_site_files_are_named_with_the_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(SiteConfigError, match=message) as error:
        load_site(path)
    assert str(path) in str(error.value)


def test_a_missing_site_file_is_named(tmp_path):
    with pytest.raises(SiteConfigError, match="site file not found"):
        load_site(tmp_path / "nowhere.toml")
