"""Deployment: certificates, Flower connections, reachability, and the Flower processes."""
