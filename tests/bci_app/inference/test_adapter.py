import pytest

from bci_app.errors import ChannelMismatchError, LiveError, SamplingRateError
from bci_app.inference.adapter import parse_channel_map, plan_pipeline
from bci_app.inference.model import OnnxModel


@pytest.fixture(scope="module")
def cards(model_files):
    return {key: OnnxModel(path.read_bytes(), key).card for key, path in model_files.items()}


def test_a_stream_in_the_model_order_and_rate_needs_only_the_declared_steps(cards):
    card = cards["band"]
    spec = plan_pipeline(card, card.ch_names, 128.0, source="s")
    assert spec == card.pipeline and spec[0]["step"] == "bandpass"
    assert plan_pipeline(cards["plain"], card.ch_names, 128.0, source="s") == []


def test_channels_are_picked_in_the_model_order(cards):
    stream = ["EOG", "C7", "C6", "C5", "C4", "C3", "C2", "C1", "C0"]
    spec = plan_pipeline(cards["plain"], stream, 128.0, source="s")
    assert spec == [{"step": "pick", "channels": [f"C{i}" for i in range(8)]}]


def test_missing_channels_are_named_with_a_way_out(cards):
    stream = ["C0", "C1", "C2", "C3", "C4", "C5", "Fz", "Cz"]
    with pytest.raises(
        ChannelMismatchError,
        match=r"amp: lacks 2 of the 8 channels of model csp-lda: C6, C7\. The stream has C0, "
        r"C1, .* --channel-map MODEL=STREAM",
    ):
        plan_pipeline(cards["plain"], stream, 128.0, source="amp")


def test_an_explicit_mapping_reads_model_channels_from_other_names(cards):
    stream = ["Cz", "C0", "C1", "C2", "C3", "C4", "C5", "Fz"]
    spec = plan_pipeline(
        cards["plain"], stream, 128.0, channel_map={"C6": "Fz", "C7": "Cz"}, source="s"
    )
    assert spec == [{"step": "pick", "channels": [*stream[1:], "Cz"]}]
    with pytest.raises(ChannelMismatchError, match=r"C7 \(mapped to Oz\)"):
        plan_pipeline(
            cards["plain"], stream, 128.0, channel_map={"C6": "Fz", "C7": "Oz"}, source="s"
        )
    with pytest.raises(ChannelMismatchError, match="names channels the model lacks: Pz"):
        plan_pipeline(cards["plain"], stream, 128.0, channel_map={"Pz": "Fz"}, source="s")


def test_another_rate_is_resampled_when_the_card_allows_it(cards):
    card = cards["band"]
    spec = plan_pipeline(card, card.ch_names, 512.0, source="s")
    assert spec[0] == {"step": "resample", "sfreq_out": 128.0} and spec[1:] == card.pipeline


def test_another_rate_is_refused_when_the_card_forbids_resampling(cards):
    card = cards["fixed"]
    with pytest.raises(
        SamplingRateError,
        match=r"amp: sampled at 512 Hz but model csp-lda takes 128 Hz and its card does not "
        "allow resampling",
    ):
        plan_pipeline(card, card.ch_names, 512.0, source="amp")


def test_channel_map_parsing():
    assert parse_channel_map(["C3=EEG 1, C4=EEG 2", "Cz=EEG 3"]) == {
        "C3": "EEG 1",
        "C4": "EEG 2",
        "Cz": "EEG 3",
    }
    with pytest.raises(LiveError, match="MODEL_CHANNEL=STREAM_CHANNEL"):
        parse_channel_map(["C3"])
