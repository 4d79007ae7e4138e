import uuid

import numpy as np
import pytest

from bci_app.cli import main

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


def test_record_writes_xdf_and_fif_for_the_selected_stream(tmp_path, capsys):
    import mne

    from acquisition.player import Player

    name = f"cli-{uuid.uuid4().hex[:8]}"
    raw = mne.io.RawArray(
        np.zeros((3, 2000)), mne.create_info(["a", "b", "c"], 500.0, "eeg"), verbose="error"
    )
    with Player(raw, name=name, markers=False):
        bids = ["--bids-root", str(tmp_path / "bids"), "--subject", "s1"]
        argv = ["record", str(tmp_path / "out.xdf"), "--name", name, "--duration", "1"]
        status = main([*argv, "--timeout", "0.6", *bids])
    assert status == 0
    printed = capsys.readouterr().out
    assert f"recording '{name}'" in printed
    assert (tmp_path / "out.xdf").stat().st_size > 0
    saved = mne.io.read_raw_fif(tmp_path / f"out_{name}_raw.fif", verbose="error")
    assert saved.ch_names == ["a", "b", "c"] and saved.n_times > 250
    assert list((tmp_path / "bids" / "sub-s1" / "eeg").glob("*_eeg.vhdr"))


def test_record_refuses_a_bids_export_without_subject(tmp_path, capsys):
    assert main(["record", str(tmp_path / "x.xdf"), "--bids-root", str(tmp_path)]) == 1
    assert "needs --subject" in capsys.readouterr().err


def test_record_says_when_no_stream_matches(tmp_path, capsys):
    missing = f"cli-{uuid.uuid4().hex[:8]}"
    assert main(["record", str(tmp_path / "x.xdf"), "--name", missing, "--timeout", "0.3"]) == 1
    assert "no stream to record matches" in capsys.readouterr().err
    assert not (tmp_path / "x.xdf").exists()
