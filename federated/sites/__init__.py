"""Sites: the file that describes one site (data, montage, labels, splits) and its trials.

The same site file drives a SuperNode in deployment (``--node-config site-config=...``) and
a virtual node in simulation (the federation's ``sites`` list).
"""
