import numpy as np
import pytest
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from federated.arrays import from_record, to_record
from federated.config import FederationConfig
from federated.inprocess import InProcessGrid
from federated.server.strategies import build_strategy

GLOBAL = {"w": np.zeros((2, 2), np.float32), "b": np.zeros(2, np.float32)}
# What each simulated site sends back: (arrays, sample count) by partition id.
BEHAVIOUR = {
    0: (lambda: {"w": np.full((2, 2), 1.0, np.float32), "b": np.ones(2, np.float32)}, 10),
    1: (lambda: {"w": np.full((2, 2), 2.0, np.float32), "b": np.ones(2, np.float32)}, 30),
    2: (lambda: {"w": np.full((2, 2), np.nan, np.float32), "b": np.ones(2, np.float32)}, 10),
    3: (lambda: {"w": np.zeros((3, 2), np.float32), "b": np.ones(2, np.float32)}, 10),
    4: (lambda: {"w": np.full((2, 2), 500.0, np.float32), "b": np.ones(2, np.float32)}, 10),
    5: (None, 10),  # raises: a site whose ClientApp fails
}


def sites_app() -> ClientApp:
    app = ClientApp()

    @app.train()
    def train(message: Message, context) -> Message:
        make, weight = BEHAVIOUR[int(context.node_config["partition-id"])]
        if make is None:
            raise RuntimeError("site crashed")
        content = RecordDict(
            {
                "arrays": to_record(make()),
                "metrics": MetricRecord({"num-examples": weight, "train-loss": 0.5}),
                "site": ConfigRecord({"name": f"site{context.node_config['partition-id']}"}),
            }
        )
        return Message(content=content, reply_to=message)

    return app


def config(**settings) -> FederationConfig:
    base = {"classes": "a,b", "window-s": 1.0, "output-dir": "/tmp/unused", "min-sites": 2}
    return FederationConfig.from_run_config({**base, **settings})


def one_round(strategy, grid):
    messages = strategy.configure_train(1, to_record(GLOBAL), ConfigRecord(), grid)
    return strategy.aggregate_train(1, grid.send_and_receive(messages))


def test_bad_updates_and_failed_sites_are_left_out_of_the_average():
    grid = InProcessGrid(sites_app(), {}, n_nodes=6)
    strategy = build_strategy(config(**{"outlier-factor": 10.0}), n_sites=6)
    arrays, metrics = one_round(strategy, grid)
    # Only site0 (10 trials, w=1) and site1 (30 trials, w=2) are averaged, by trial counts.
    np.testing.assert_allclose(from_record(arrays)["w"], np.full((2, 2), 1.75))
    report = strategy.report
    assert sorted(report.accepted) == ["site0", "site1"]
    reasons = {item["site"]: item["reason"] for item in report.rejected}
    assert "NaN/Inf" in reasons["site2"] and "shape (3, 2)" in reasons["site3"]
    assert "update norm" in reasons["site4"]
    assert len(report.failed) == 1 and "site crashed" in report.failed[0]["reason"]
    assert metrics["train-loss"] == pytest.approx(0.5)


def test_a_site_that_drops_out_does_not_stop_the_round():
    grid = InProcessGrid(sites_app(), {}, n_nodes=2)
    strategy = build_strategy(config(), n_sites=3)
    grid.node_ids.append(9999)  # a node the server still lists but that never answers
    grid.offline.add(9999)
    arrays, _ = one_round(strategy, grid)
    np.testing.assert_allclose(from_record(arrays)["w"], np.full((2, 2), 1.75))
    assert strategy.report.failed[0]["node"] == 9999
    assert "no reply" in strategy.report.failed[0]["reason"]


def test_with_fewer_good_updates_than_min_sites_the_model_is_kept():
    grid = InProcessGrid(sites_app(), {}, n_nodes=3)
    strategy = build_strategy(config(**{"min-sites": 3}), n_sites=3)
    arrays, metrics = one_round(strategy, grid)
    assert arrays is None and metrics is None
    assert "fewer than min-sites=3" in strategy.report.skipped


def test_central_dp_averages_clipped_updates_unweighted_and_accounts_each_release():
    grid = InProcessGrid(sites_app(), {}, n_nodes=2)
    clean, _ = one_round(build_strategy(config(), n_sites=2), grid)
    private = build_strategy(
        config(privacy="central", **{"dp-noise": 0.5, "dp-clip": 0.1}), n_sites=2
    )
    noisy, _ = one_round(private, grid)
    difference = from_record(noisy)["w"] - from_record(clean)["w"]
    assert np.abs(difference).max() > 0.5  # clipped to norm 0.1, then noise of sd 0.025
    assert np.linalg.norm(from_record(noisy)["w"]) < 1.0
    assert private.privacy.report()["rounds"] == 1 and private.privacy.epsilon() > 0
    # Nearly no noise: the average of the two clipped updates, each site counting once.
    quiet = build_strategy(config(privacy="central", **{"dp-noise": 1e-9, "dp-clip": 0.1}), 2)
    arrays, _ = one_round(quiet, grid)
    site0, site1 = 1 * 0.1 / np.sqrt(6), 2 * 0.1 / np.sqrt(18)  # w = 1 and 2, b = 1 (norms)
    np.testing.assert_allclose(from_record(arrays)["w"], (site0 + site1) / 2, rtol=1e-5)
    # Noise of sd z C / m for the m = 2 updates averaged, though 3 sites were expected.
    three = build_strategy(config(privacy="central", **{"dp-noise": 0.5, "dp-clip": 0.1}), 3)
    one_round(three, grid)
    assert three.privacy.dp.num_sampled_clients == 2


def test_fedprox_and_the_personalised_strategy_tell_the_sites():
    for settings, key, value in (
        (
            {"strategy": "fedprox", "proximal-mu": 0.1, "channels": "C3", "sfreq": 100},
            "proximal-mu",
            0.1,
        ),
        ({}, "personalised", True),
    ):
        grid = InProcessGrid(sites_app(), {}, n_nodes=2)
        strategy = build_strategy(config(**settings), n_sites=2)
        messages = list(strategy.configure_train(1, ArrayRecord(), ConfigRecord(), grid))
        assert all(m.content["config"][key] == value for m in messages)


class GridWithAnUnavailableNode(InProcessGrid):
    """A grid whose offline nodes are answered for by the SuperLink, as Flower's is."""

    def push_messages(self, messages):
        from flwr.server.superlink.linkstate.utils import (
            create_message_error_unavailable_res_message,
        )

        messages = list(messages)
        ids = super().push_messages(messages)
        for message in messages:
            if message.metadata.dst_node_id in self.offline:
                reply = create_message_error_unavailable_res_message(
                    message.metadata, "node_unavail"
                )
                self._replies[message.metadata.message_id] = reply
        return ids


def test_a_node_the_superlink_declares_unavailable_is_recorded_once_as_itself():
    grid = GridWithAnUnavailableNode(sites_app(), {}, n_nodes=3)
    strategy = build_strategy(config(), n_sites=3)
    one_round(strategy, grid)  # every site known by name
    dropped = grid.node_ids[2]
    grid.offline.add(dropped)

    one_round(strategy, grid)

    assert sorted(strategy.report.accepted) == ["site0", "site1"]
    [failure] = strategy.report.failed
    assert failure["site"] == "site2" and failure["node"] == dropped
    assert "Node Unavailable" in failure["reason"] and "heartbeat" in failure["reason"]
