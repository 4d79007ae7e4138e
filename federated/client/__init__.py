"""What a site does with the server's messages: train a round, evaluate, finish."""
