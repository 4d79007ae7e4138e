"""Federated training on Flower: sites with their own montages train one decoder together.

Rooms: :mod:`.config` (the federation's settings), :mod:`.sites` (site files and their data),
:mod:`.client` (what a site does with a message), :mod:`.server` (strategies, screening of
updates, rounds, checkpoints, history), :mod:`.deploy` (certificates, connections, the Flower
processes) and ``flower_app/`` (the Flower app: thin ServerApp and ClientApp entry points).
"""
