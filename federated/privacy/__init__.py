"""Differential privacy of federated training, accounted: the (ε, δ) a run spends.

Two mechanisms (``privacy`` in the federation file):

- **central** (:mod:`.central`): the server clips each site's update to a norm (fixed, or
  adaptive as Flower provides) and adds Gaussian noise to their unweighted average (Flower's
  DP wrappers); the guarantee protects each *site*'s participation in the global model.
- **local** (:mod:`.local`): every site trains with DP-SGD (per-trial gradient clipping and
  Gaussian noise, Opacus's optimiser, Poisson-sampled batches), so everything a site sends
  is private at the level of a *trial*, against the server and every later reader.

Both are accounted by Rényi DP (:mod:`.accountant`, Opacus's RDP accountant): ε at the
federation's δ after every round, for the run, and per site for local DP; a target ε either
sets the noise or stops training before a round would exceed it.
"""
