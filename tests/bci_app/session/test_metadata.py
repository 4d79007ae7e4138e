import json

import pytest

from bci_app.session.metadata import SessionInfo


def test_metadata_round_trips_through_its_folder(tmp_path):
    info = SessionInfo("P017", label="day 2 / MI", operator="AB")
    info.add_note("electrode Cz replaced", lsl_time=12.5)
    info.add_note("artifact", kind="marker")
    info.recordings.append({"xdf": "rec-01.xdf", "stop_reason": "stopped"})
    info.models.append("mi:3")
    path = info.save(tmp_path)
    assert path == tmp_path / "session.json" and not list(tmp_path.glob(".*tmp"))
    loaded = SessionInfo.load(tmp_path)
    assert loaded == info
    assert loaded.label == "day-2-MI"
    assert [n.kind for n in loaded.notes] == ["note", "marker"]
    assert info.folder_name().endswith("-day-2-MI")


def test_a_name_cannot_be_the_subject():
    with pytest.raises(ValueError, match="refused"):
        SessionInfo("Jane Doe")


def test_an_empty_note_is_not_added():
    info = SessionInfo("P017")
    with pytest.raises(ValueError, match="empty note"):
        info.add_note("  ")
    assert info.notes == []


def test_a_folder_without_or_with_broken_metadata_is_named(tmp_path):
    with pytest.raises(ValueError, match="not a session folder"):
        SessionInfo.load(tmp_path)
    (tmp_path / "session.json").write_text("{broken")
    with pytest.raises(ValueError, match=r"session\.json: unreadable"):
        SessionInfo.load(tmp_path)
    (tmp_path / "session.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="format 99"):
        SessionInfo.load(tmp_path)
