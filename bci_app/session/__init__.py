"""Sessions with a participant: pseudonymous metadata, recording, calibration, reports.

Headless: the GUI drives these modules, and so can a script. Nothing here imports Qt; torch
and the ``decoders`` package are imported only inside the functions that train.
"""
