import json

import numpy as np
import pytest

from decoders.datasets.errors import DataError
from decoders.speech.features import AUDIO_SFREQ, FeatureSettings, clip_features, segment_embeddings

CLIP = np.random.default_rng(0).normal(size=round(2 * AUDIO_SFREQ)) * 0.1


def test_log_mel_and_envelope_frames_follow_the_sound():
    clip = CLIP.copy()
    clip[: len(clip) // 2] *= 0.01  # quiet first second
    features = clip_features(clip, FeatureSettings("mel+envelope", frame_rate=10.0, n_mels=6))
    assert features.shape == (7, 20)
    mel, envelope = features[:6], features[6]
    assert np.all(mel[:, :10].mean(axis=1) < mel[:, 10:].mean(axis=1) - 30)  # 40 dB quieter
    assert envelope[:10].mean() < 0.05 * envelope[10:].mean()
    names = FeatureSettings("mel+envelope", n_mels=6).names()
    assert names[0] == "mel00" and names[-1] == "envelope"


def test_segment_embeddings_are_centred_unit_vectors():
    features = np.random.default_rng(1).normal(size=(3, 4, 5)) + 7.0
    embeddings = segment_embeddings(features)
    assert embeddings.shape == (3, 20) and np.allclose(np.linalg.norm(embeddings, axis=1), 1)
    assert np.allclose(embeddings.reshape(3, 4, 5).sum(axis=2), 0, atol=1e-6)
    assert np.allclose(segment_embeddings(np.ones((1, 2, 3))), 0)


def tiny_transformers_model(folder, normalize=True):
    """Save a tiny randomly initialised wav2vec 2.0 in the transformers format."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8, 8),
        conv_kernel=(10, 3, 3),
        conv_stride=(5, 4, 16),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm="group",
        do_stable_layer_norm=False,
    )
    model = Wav2Vec2Model(config).eval()
    model.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"do_normalize": normalize}))
    return model


@pytest.mark.slow
def test_wav2vec_hidden_states_from_a_local_transformers_checkpoint(tmp_path):
    import torch

    reference = tiny_transformers_model(tmp_path / "w2v")
    settings = FeatureSettings(
        "wav2vec", frame_rate=50.0, wav2vec=str(tmp_path / "w2v"), layers=(2, 3)
    )
    features = clip_features(CLIP, settings)
    assert features.shape == (16, 100) and settings.names()[0] == "w2v0000"
    with torch.no_grad():
        normalized = (CLIP - CLIP.mean()) / (CLIP.std() + 1e-7)
        states = reference(
            torch.as_tensor(normalized, dtype=torch.float32)[None], output_hidden_states=True
        )
    expected = torch.stack(states.hidden_states[2:4]).mean(0)[0].numpy()  # layers 2 and 3
    frames = min(len(expected), 100)  # one encoder frame every 320 samples = one 50 Hz frame
    assert np.allclose(features[:, :frames], expected[:frames].T, atol=1e-4)
    with pytest.raises(DataError, match="has 3 transformer layers; no layer"):
        clip_features(CLIP, FeatureSettings("wav2vec", wav2vec=str(tmp_path / "w2v"), layers=(4,)))


@pytest.mark.slow
def test_wav2vec_from_a_torchaudio_state_dict_and_missing_checkpoints(tmp_path):
    import torch
    from torchaudio.models import wav2vec2_model

    arguments = {
        "extractor_mode": "group_norm",
        "extractor_conv_layer_config": [[8, 10, 5], [8, 3, 4], [8, 3, 16]],
        "extractor_conv_bias": False,
        "encoder_embed_dim": 12,
        "encoder_projection_dropout": 0.0,
        "encoder_pos_conv_kernel": 16,
        "encoder_pos_conv_groups": 4,
        "encoder_num_layers": 2,
        "encoder_num_heads": 2,
        "encoder_attention_dropout": 0.0,
        "encoder_ff_interm_features": 24,
        "encoder_ff_interm_dropout": 0.0,
        "encoder_dropout": 0.0,
        "encoder_layer_norm_first": False,
        "encoder_layer_drop": 0.0,
    }
    torch.manual_seed(0)
    model = wav2vec2_model(**arguments, aux_num_out=None).eval()
    torch.save(model.state_dict(), tmp_path / "w2v.pt")
    (tmp_path / "w2v.json").write_text(json.dumps(arguments))
    features = clip_features(
        CLIP, FeatureSettings("wav2vec", frame_rate=25.0, wav2vec=str(tmp_path / "w2v.pt"))
    )
    assert features.shape == (12, 50) and np.isfinite(features).all()
    with pytest.raises(DataError, match=r"no wav2vec 2\.0 checkpoint there"):
        clip_features(CLIP, FeatureSettings("wav2vec", wav2vec=str(tmp_path / "none")))
    with pytest.raises(DataError, match="wav2vec features need the path"):
        FeatureSettings("wav2vec")
