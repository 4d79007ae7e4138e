"""The server's side: strategies, screening of updates, rounds, checkpoints and history."""
