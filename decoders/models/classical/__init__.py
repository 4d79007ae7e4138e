"""Baselines every decoder must beat: CSP+LDA, tangent space, EEGNet, ShallowFBCSPNet, ROCKET."""
