"""EMA codebooks across sites: counts and sums summed, first codebooks merged, bad sizes refused."""

import numpy as np
import pytest

from federated.config import FederationConfig
from federated.pretraining.codebooks import (
    SiteCodebook,
    check_codebook,
    codebook_keys,
    merge,
    split_dead,
    sum_round,
)

DECAY = 0.9


def ema_steps(count, total, steps):
    """A site's (or the pooled) EMA: ``steps`` of (codes' counts, codes' vector sums)."""
    for step_count, step_total in steps:
        count = DECAY * count + (1 - DECAY) * step_count
        total = DECAY * total + (1 - DECAY) * step_total
    return count, total


def test_summed_counts_and_sums_equal_pooled_training():
    rng = np.random.default_rng(0)
    count, total = rng.uniform(1, 5, 4), rng.standard_normal((4, 3))
    steps = {
        site: [(rng.uniform(0, 3, 4), rng.standard_normal((4, 3))) for _ in range(3)]
        for site in "ab"
    }
    sites = [SiteCodebook(*ema_steps(count, total, steps[s]), True) for s in "ab"]
    pooled = ema_steps(
        count, total, [(a[0] + b[0], a[1] + b[1]) for a, b in zip(*steps.values(), strict=True)]
    )
    summed = sum_round(count, total, sites, DECAY**3)
    np.testing.assert_allclose(summed[0], pooled[0])
    np.testing.assert_allclose(summed[1], pooled[1])


def test_a_code_only_one_site_uses_keeps_that_sites_vectors():
    count, total = np.array([1.0, 1.0]), np.array([[0.0, 0.0], [0.0, 0.0]])
    a = SiteCodebook(
        *ema_steps(count, total, [(np.array([10, 0]), np.array([[10, 0], [0, 0]]))]), True
    )
    b = SiteCodebook(
        *ema_steps(count, total, [(np.array([0, 10]), np.array([[0, 0], [0, -50]]))]), True
    )
    new_count, new_total = sum_round(count, total, [a, b], DECAY)
    codes = new_total / new_count[:, None]
    averaged = (a.total / a.count[:, None] + b.total / b.count[:, None]) / 2
    assert codes[1, 1] == pytest.approx(-5 / 1.9)  # b's vectors only, with the old code's share
    assert averaged[1, 1] == pytest.approx(codes[1, 1] / 2)  # averaging codes would halve it


def test_first_codebooks_initialised_apart_are_merged_by_clustering():
    centres = np.array([[5.0, 0.0], [0.0, 5.0], [-5.0, 0.0]])
    a = SiteCodebook(np.array([4.0, 2.0, 1.0]), centres * np.array([[4.0], [2.0], [1.0]]), True)
    order = [2, 0, 1]  # the same clusters under other indices, slightly moved
    moved = centres[order] + 0.1
    b = SiteCodebook(np.array([3.0, 3.0, 3.0]), moved * 3.0, True)
    count, total = merge([a, b], 3, seed=0)
    assert count.sum() == pytest.approx(16.0) and sorted(count) == [4.0, 5.0, 7.0]
    codes = total / count[:, None]
    for centre in centres:
        assert np.min(np.linalg.norm(codes - centre, axis=1)) < 0.15


def test_a_dead_code_is_moved_beside_the_busiest_and_splits_its_statistics():
    count, total = np.array([100.0, 0.001, 10.0]), np.array([[100.0], [0.0], [-10.0]])
    new_count, new_total, moved = split_dead(count, total, threshold=0.01, seed=0)
    assert moved == 1 and new_count.sum() == pytest.approx(count.sum(), abs=0.01)
    assert new_count[0] == new_count[1] == 50.0
    assert new_total[1, 0] / new_count[1] == pytest.approx(1.0, abs=0.05)


def test_a_codebook_of_another_size_or_with_nan_is_refused_by_name():
    keys = codebook_keys("backbone.quantizer")
    reference = {
        keys["codebook"]: np.zeros((8, 4)),
        keys["ema_count"]: np.ones(8),
        keys["ema_sum"]: np.zeros((8, 4)),
        keys["initialised"]: np.array(True),
        keys["restarts"]: np.array(0),
    }
    assert check_codebook(reference, reference, "backbone.quantizer") is None
    bigger = reference | {keys["ema_count"]: np.ones(16), keys["ema_sum"]: np.zeros((16, 4))}
    problem = check_codebook(bigger, reference, "backbone.quantizer")
    assert "has 16 codes of 4 values" in problem and "the federation's 8 codes of 4" in problem
    broken = reference | {keys["ema_sum"]: np.full((8, 4), np.nan)}
    assert "NaN/Inf" in check_codebook(broken, reference, "backbone.quantizer")
    missing = {k: v for k, v in reference.items() if k != keys["ema_count"]}
    assert "lacks the codebook arrays" in check_codebook(missing, reference, "backbone.quantizer")


def test_the_server_rejects_a_site_whose_codebook_has_another_size(monkeypatch):
    from flwr.supercore.task_identity import TaskIdentity

    for name, value in (("_run_id", 1), ("_node_id", 0), ("_task_id", 1)):  # as a ServerApp
        monkeypatch.setattr(TaskIdentity, name, value)
    from flwr.app import ConfigRecord, Message, MetricRecord, RecordDict

    from federated.arrays import as_numpy, to_record
    from federated.pretraining.model import build_model, quantizer_prefixes
    from federated.pretraining.server import Aggregation

    config = FederationConfig(
        output_dir="x", pretrain="eegformer", pretrain_size="tiny", min_sites=1, local_steps=1
    )
    model = build_model(config)
    [prefix] = quantizer_prefixes(model)
    reference = as_numpy(model.state_dict())
    other = build_model(
        FederationConfig(
            output_dir="x",
            pretrain="eegformer",
            pretrain_size="tiny",
            local_steps=1,
            pretrain_options={"n_codes": 2 * len(reference[f"{prefix}.ema_count"])},
        )
    )
    messages, replies = [], []
    for node, (site, arrays) in enumerate(
        (("good", reference), ("other", as_numpy(other.state_dict()))), 1
    ):
        sent = Message(RecordDict({"arrays": to_record(reference)}), node, "train")
        sent.metadata.__dict__["_message_id"] = f"m{node}"
        content = RecordDict(
            {
                "arrays": to_record(arrays),
                "metrics": MetricRecord({"num-examples": 10, "loss": 1.0}),
                "site": ConfigRecord({"name": site}),
                "corpus": ConfigRecord({"summary": "{}"}),
            }
        )
        messages.append(sent)
        replies.append(Message(content, reply_to=sent))
    arrays, record = Aggregation(config, model, [prefix]).round(1, messages, replies, reference)
    assert record["accepted"] == ["good"] and arrays is not None
    [rejected] = record["rejected"]
    assert rejected["site"] == "other" and "codes of" in rejected["reason"]
