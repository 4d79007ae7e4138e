"""Online adaptation of fitted decoders: strategies, the trial-by-trial protocol, bounds."""
