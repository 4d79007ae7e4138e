"""Resting EEG of a clinical recording: the normal background the abnormalities deviate from.

Parts: 1/f^a activity of many random cortical dipoles (:func:`.background.pink_mixing`); a
posterior alpha rhythm (one generator below O1, one below O2) that loses part of its amplitude
when the eyes open (reactivity) and when the subject gets drowsy; a central beta rhythm (below
C3 and C4); frontal midline theta during drowsiness; white sensor noise. Rhythms are Gaussian
narrow-band noise that waxes and wanes slowly. Eye opening and drowsiness come and go at random
(the ground truth keeps their periods).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .background import pink_mixing, random_dipoles
from .forward import head_model, lead_field, place_dipoles
from .montages import electrode_positions
from .signals import (
    band_fraction,
    fine_frequencies,
    frequencies,
    on_off_course,
    peak_spectrum,
    pink_spectrum,
    shaped_noise,
)

ALPHA_BAND_HZ = (8.0, 13.0)
BETA_BAND_HZ = (13.0, 30.0)
THETA_BAND_HZ = (4.0, 8.0)

# Rhythm generators: electrode above and depth below the scalp; alpha and beta list the left
# hemisphere first.
_RHYTHM_SOURCES = {
    "alpha": (("O1", 0.025), ("O2", 0.025)),
    "beta": (("C3", 0.022), ("C4", 0.022)),
    "theta": (("Fz", 0.030),),
}
_N_PINK_DIPOLES = 300
_WAXING = 0.5  # sd of the log-amplitude of a rhythm's slow waxing and waning
_EYES_OPEN_S = (5.0, 20.0)
_EYES_CLOSED_S = (20.0, 60.0)
_DROWSY_S = (5.0, 30.0)
_DROWSY_ALPHA_LOSS = 0.6  # share of alpha amplitude lost when drowsy


@dataclass(frozen=True)
class RestingPhysiology:
    """One subject's resting-EEG parameters (part of the ground truth).

    Attributes
    ----------
    background_uv : float
        RMS over channels of the 1/f part, in microvolts.
    exponent : float
        Exponent a of the 1/f^a spectrum.
    sensor_noise_uv : float
        RMS of the white sensor noise, in microvolts (each channel x0.7-1.3).
    alpha_hz, alpha_width_hz : float
        Alpha peak frequency (8-11 Hz, lower in older subjects) and spectral width.
    alpha_share : float
        Alpha power in 8-13 Hz, eyes closed and awake, over the 1/f part's power there.
    alpha_balance : float
        Right over left alpha amplitude (normal asymmetry).
    reactivity : float
        Share of alpha amplitude lost when the eyes are open.
    beta_hz : float
        Central beta peak frequency.
    beta_share : float
        Beta power in 13-30 Hz over the 1/f part's power there.
    theta_share : float
        Frontal theta power in 4-8 Hz when drowsy, over the 1/f part's power there.
    drowsy_share : float
        Expected share of the time spent drowsy.
    """

    background_uv: float
    exponent: float
    sensor_noise_uv: float
    alpha_hz: float
    alpha_width_hz: float
    alpha_share: float
    alpha_balance: float
    reactivity: float
    beta_hz: float
    beta_share: float
    theta_share: float
    drowsy_share: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> RestingPhysiology:
        """Return random physiology within normal adult ranges."""
        return cls(
            background_uv=float(20.0 * rng.uniform(0.75, 1.3)),
            exponent=float(rng.uniform(0.9, 1.6)),
            sensor_noise_uv=float(rng.uniform(1.0, 3.0)),
            alpha_hz=float(rng.uniform(8.0, 11.0)),
            alpha_width_hz=float(rng.uniform(0.6, 1.2)),
            alpha_share=float(rng.uniform(1.0, 4.0)),
            alpha_balance=float(np.exp(rng.normal(0.0, 0.12))),
            reactivity=float(rng.uniform(0.3, 0.8)),
            beta_hz=float(rng.uniform(16.0, 24.0)),
            beta_share=float(rng.uniform(0.2, 0.8)),
            theta_share=float(rng.uniform(0.5, 1.5)),
            drowsy_share=float(rng.uniform(0.02, 0.3)),
        )


@dataclass(frozen=True)
class Rhythm:
    """Narrow-band generators sharing one spectral peak.

    Attributes
    ----------
    patterns : ndarray, shape (n_channels, n_generators)
        Potential (V) of each generator at its RMS moment.
    peak_hz, width_hz : float
        Spectral peak and width.
    """

    patterns: np.ndarray
    peak_hz: float
    width_hz: float

    def moments(self, rng: np.random.Generator, sfreq: float, n_times: int) -> np.ndarray:
        """Return unit mean-power moments (n_generators, n_times) that wax and wane slowly."""
        freqs = frequencies(n_times, sfreq)
        n_generators = self.patterns.shape[1]
        spectrum = peak_spectrum(freqs, self.peak_hz, self.width_hz)
        moments = shaped_noise(rng, spectrum, n_generators, n_times)
        slow = shaped_noise(rng, peak_spectrum(freqs, 0.0, 0.1), n_generators, n_times)
        return moments * np.exp(_WAXING * slow - _WAXING**2)

    def band_power(self, sfreq: float, band: tuple[float, float]) -> float:
        """Return the expected power in ``band`` summed over channels (V^2)."""
        freqs = fine_frequencies(sfreq)
        shape = peak_spectrum(freqs, self.peak_hz, self.width_hz)
        return float(np.sum(self.patterns**2) * band_fraction(shape, freqs, band))

    def scaled_to(self, power: float, sfreq: float, band: tuple[float, float]) -> Rhythm:
        """Return the rhythm scaled to the expected ``power`` in ``band``."""
        scale = np.sqrt(power / self.band_power(sfreq, band))
        return Rhythm(self.patterns * scale, self.peak_hz, self.width_hz)


@dataclass(frozen=True)
class RestingRecording:
    """One recording's resting EEG and the parts the abnormalities act on.

    Attributes
    ----------
    signals : ndarray, shape (n_channels, n_times)
        The whole resting EEG in volts (1/f, rhythms, sensor noise).
    alpha_moments, beta_moments : ndarray, shape (2, n_times)
        Moments of the left and right alpha and beta generators as recorded.
    alpha_gain : ndarray, shape (n_times,)
        Alpha amplitude relative to eyes closed and awake.
    eyes_open_s, drowsy_s : tuple of (float, float)
        Periods (s) with the eyes open and of drowsiness.
    """

    signals: np.ndarray
    alpha_moments: np.ndarray
    beta_moments: np.ndarray
    alpha_gain: np.ndarray
    eyes_open_s: tuple[tuple[float, float], ...]
    drowsy_s: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RestingEEG:
    """One subject's resting EEG on one montage and sampling rate.

    Attributes
    ----------
    physiology : RestingPhysiology
        The parameters it was built from.
    mixing : ndarray, shape (n_channels, n_channels)
        Square root of the 1/f part's sensor covariance (volts).
    noise_sd : ndarray, shape (n_channels,)
        RMS of each channel's sensor noise (volts).
    alpha, beta, theta : Rhythm
        The rhythms, at the power they have eyes closed, awake (alpha) or drowsy (theta).
    """

    physiology: RestingPhysiology
    mixing: np.ndarray
    noise_sd: np.ndarray
    alpha: Rhythm
    beta: Rhythm
    theta: Rhythm

    @classmethod
    def draw(cls, rng: np.random.Generator, ch_names: tuple[str, ...], sfreq: float) -> RestingEEG:
        """Return a random subject's resting EEG on ``ch_names`` at ``sfreq``.

        The draws do not depend on the channels or the rate: the same random state gives the
        same subject on any montage.
        """
        physiology = RestingPhysiology.draw(rng)
        model = head_model()
        pink_dipoles = random_dipoles(rng, model, _N_PINK_DIPOLES)
        placement = [
            (electrode, depth, 1.0, 0.0)
            for sources in _RHYTHM_SOURCES.values()
            for electrode, depth in sources
        ]
        jitter = rng.normal(0.0, 0.004, (len(placement), 3))
        turn = rng.normal(0.0, 0.15, (len(placement), 3))
        channel_noise = rng.uniform(0.7, 1.3, len(electrode_positions()))

        field = lead_field(ch_names)
        patterns = field.pattern(*place_dipoles(model, placement, jitter, turn))
        mixing = pink_mixing(field, pink_dipoles, physiology.background_uv)
        freqs = fine_frequencies(sfreq)
        pink_total = np.sum(mixing**2)

        def pink_power(band: tuple[float, float]) -> float:
            shape = pink_spectrum(freqs, physiology.exponent)
            return float(pink_total * band_fraction(shape, freqs, band))

        alpha_patterns = patterns[:, :2] * [1.0, physiology.alpha_balance]
        alpha = Rhythm(alpha_patterns, physiology.alpha_hz, physiology.alpha_width_hz)
        beta = Rhythm(patterns[:, 2:4], physiology.beta_hz, 3.0)
        theta = Rhythm(patterns[:, 4:], 6.0, 1.0)
        rows = [list(electrode_positions()).index(name) for name in ch_names]
        return cls(
            physiology=physiology,
            mixing=mixing,
            noise_sd=physiology.sensor_noise_uv * 1e-6 * channel_noise[rows],
            alpha=alpha.scaled_to(
                physiology.alpha_share * pink_power(ALPHA_BAND_HZ), sfreq, ALPHA_BAND_HZ
            ),
            beta=beta.scaled_to(
                physiology.beta_share * pink_power(BETA_BAND_HZ), sfreq, BETA_BAND_HZ
            ),
            theta=theta.scaled_to(
                physiology.theta_share * pink_power(THETA_BAND_HZ), sfreq, THETA_BAND_HZ
            ),
        )

    def simulate(self, rng: np.random.Generator, sfreq: float, n_times: int) -> RestingRecording:
        """Return ``n_times`` samples of resting EEG with random eye opening and drowsiness."""
        physiology = self.physiology
        n_channels = self.mixing.shape[0]
        spectrum = pink_spectrum(frequencies(n_times, sfreq), physiology.exponent)
        pink = self.mixing @ shaped_noise(rng, spectrum, n_channels, n_times)
        noise = rng.standard_normal((n_channels, n_times)) * self.noise_sd[:, None]
        eyes_open, eyes_open_s = on_off_course(rng, sfreq, n_times, _EYES_OPEN_S, _EYES_CLOSED_S)
        awake_mean_s = np.mean(_DROWSY_S) * (1 - physiology.drowsy_share) / physiology.drowsy_share
        drowsy, drowsy_s = on_off_course(
            rng, sfreq, n_times, _DROWSY_S, (0.5 * awake_mean_s, 1.5 * awake_mean_s)
        )
        alpha_gain = (1 - physiology.reactivity * eyes_open) * (1 - _DROWSY_ALPHA_LOSS * drowsy)
        alpha = self.alpha.moments(rng, sfreq, n_times) * alpha_gain
        beta = self.beta.moments(rng, sfreq, n_times)
        theta = self.theta.moments(rng, sfreq, n_times) * drowsy
        signals = (
            pink
            + noise
            + self.alpha.patterns @ alpha
            + self.beta.patterns @ beta
            + self.theta.patterns @ theta
        )
        return RestingRecording(signals, alpha, beta, alpha_gain, eyes_open_s, drowsy_s)
