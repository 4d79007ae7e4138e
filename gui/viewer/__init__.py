"""The signal viewer: a display feed in a worker thread, and widgets that draw its frames."""
