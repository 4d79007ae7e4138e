"""RLEEGNet, a reinforcement-learning motor-imagery decoder.

One-versus-rest CSP in "csp space", a 1D-CNN-LSTM Q-network trained as a DQN, and online
adaptation from labelled feedback trials within a trust region (:mod:`.online` runs it beside
the live engine).
"""
