import numpy as np

from federated.client.state import SiteState


def test_local_layers_are_kept_per_round_and_taken_from_the_chosen_one(tmp_path):
    state = SiteState(tmp_path, "exp/1", "key")
    assert state.load_local() is None and state.load_local(3) is None
    for server_round in (1, 2, 4):
        state.save_local({"w": np.full(2, float(server_round))}, server_round)
    assert state.local_rounds() == [1, 2, 4]
    assert state.load_local()["w"][0] == 4.0
    assert state.load_local(2)["w"][0] == 2.0
    assert state.load_local(3)["w"][0] == 2.0  # missed round 3: its last layers before it
    assert state.folder.parent.name == "exp_1"
