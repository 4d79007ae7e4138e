"""``bci-app decoders``: what trains, exports and runs live, licences flagged; ``--all`` adds
what does not export, with the reason."""

import subprocess
import sys


def _decoders(*args):
    return subprocess.run(
        [sys.executable, "-m", "bci_app", "decoders", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_listing_flags_licences_and_all_adds_the_export_failures():
    listed = _decoders()
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert "NON-COMMERCIAL" in lines["brainmodule"] and "cc-by-nc-4.0" in lines["brainmodule"]
    assert {"minirocket", "multirocket", "auto", "eegconformer"} <= set(lines)
    assert "atcnet" not in lines  # it trains but does not export
    everything = _decoders("--all")
    assert "atcnet" in everything.stdout and "[trains, does not export]" in everything.stdout
    assert "| REVE | - | not registered |" in everything.stdout
