"""Real recordings (fetch, load), readers of users' files and the trial-set contract."""
