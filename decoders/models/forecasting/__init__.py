"""Seizure forecasting decoders: STAN (adversarial spatio-temporal attention network).

Forecasters are ordinary decoders (window in, class probabilities out) trained on windows
labelled interictal/preictal (:mod:`decoders.datasets.forecast_windows`); alarms are raised
from their probability stream by :mod:`bci_app.models.alarm`, offline and live alike.
"""
