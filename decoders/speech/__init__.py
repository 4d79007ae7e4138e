"""Speech listening data: sounds, speech features, their alignment to brain recordings, pairs."""
