import stat

import pytest

from bci_app.session.subject import check_subject_id, load_key, pseudonym


def test_the_pseudonym_is_stable_keyed_and_ignores_case_and_spacing(tmp_path):
    key = load_key(tmp_path / "subject.key")
    first = pseudonym("Jane  Doe ", key)
    assert first == pseudonym("jane doe", key)
    assert first.startswith("sub-") and len(first) == 12
    assert first != pseudonym("Jane Doe", b"\x01" * 32)
    assert first != pseudonym("Jane Doe 2", key)


def test_the_key_is_created_once_private_and_reused(tmp_path):
    path = tmp_path / "bci-app" / "subject.key"
    key = load_key(path)
    assert len(key) == 32 and load_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_damaged_key_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "subject.key"
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match=r"subject\.key: not a pseudonymisation key"):
        load_key(path)


def test_an_empty_identifier_has_no_pseudonym():
    with pytest.raises(ValueError, match="empty identifier"):
        pseudonym("   ", b"k" * 32)


@pytest.mark.parametrize("accepted", ["sub-ABCDEF23", "P017", "site2_045"])
def test_pseudonyms_and_site_codes_are_accepted(accepted):
    assert check_subject_id(f" {accepted} ") == accepted


@pytest.mark.parametrize("refused", ["Jane Doe", "Smith", "x", "P 017", "sub-abc"])
def test_anything_that_could_be_a_name_is_refused(refused):
    with pytest.raises(ValueError, match="refused"):
        check_subject_id(refused)
