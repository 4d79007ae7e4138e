import pytest

from bci_app.inference.tracing import LatencyTrace, LatencyTracker, format_summary


def test_stages_come_from_the_six_instants():
    trace = LatencyTrace.from_instants(10.0, 10.002, 10.003, 10.0035, 10.0045, 10.0046)
    assert trace.acquisition == pytest.approx(2.0) and trace.buffering == pytest.approx(1.0)
    assert trace.preprocessing == pytest.approx(0.5) and trace.inference == pytest.approx(1.0)
    assert trace.publication == pytest.approx(0.1) and trace.e2e == pytest.approx(4.6)
    assert trace.overhead == pytest.approx(3.6)


def test_rolling_percentiles_keep_the_most_recent_traces():
    tracker = LatencyTracker(size=100)
    assert tracker.summary() == {}
    for value in range(1, 201):
        tracker.add(LatencyTrace(0, 0, 0, float(value), 0, float(value)))
    summary = tracker.summary()
    assert len(tracker) == 100
    assert summary["inference"]["p50"] == pytest.approx(150.5)
    assert summary["e2e"]["p99"] == pytest.approx(199.01)
    table = format_summary(summary, "stage")
    assert table.splitlines()[0] == "| stage | p50 ms | p95 ms | p99 ms |"
    assert "| inference | 150.50 | 195.05 | 199.01 |" in table
