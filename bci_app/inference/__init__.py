"""The live inference core: ONNX models on LSL streams, latency traced per stage.

- :mod:`~bci_app.inference.engine`: :class:`InferenceEngine`, several decoders on several
  streams, each in its own thread, predictions published on LSL and logged;
- :mod:`~bci_app.inference.runner`: one decoder on one stream (windows, NaN and overrun
  handling, model swap between two windows);
- :mod:`~bci_app.inference.model`: one verified .onnx file in ONNX Runtime, batch 1 (its
  format and settings: :mod:`bci_app.models.format`);
- :mod:`~bci_app.inference.adapter`: channel mapping, resampling, declared preprocessing;
- :mod:`~bci_app.inference.tracing`: latency per stage and rolling percentiles;
- :mod:`~bci_app.inference.alarm_outlet`: the seizure-alarm stream of forecasting models
  (alarms raised by :mod:`bci_app.models.alarm`);
- :mod:`~bci_app.inference.replay`: play a recording and decode it live (the demo).

Nothing here imports torch or the ``decoders`` package.
"""
