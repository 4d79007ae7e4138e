"""The clinician desktop: a Qt application over the live pipeline (``bci-app gui``).

PySide6 + pyqtgraph. The GUI draws; acquisition, decoding, recording and training run in
worker threads through the headless packages (``acquisition``, ``bci_app``), and the GUI
thread only reads their state from timers. Import the submodule you need.
"""
