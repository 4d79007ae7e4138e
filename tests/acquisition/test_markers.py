from acquisition.markers import MarkerBuffer


def test_markers_are_numbered_and_found_by_time():
    buffer = MarkerBuffer("cues", capacity=3)
    buffer.add([10.0, 12.0], ["left", "right"], arrival=12.5)
    buffer.add([11.0, 13.0], ["late", "rest"], arrival=13.1)
    assert buffer.next_seq == 4
    assert [m.value for m in buffer.since(0)] == ["right", "late", "rest"]  # capacity 3
    assert [m.value for m in buffer.since(2)] == ["late", "rest"]
    assert [m.value for m in buffer.between(10.5, 12.5)] == ["late", "right"]  # by time
    assert buffer.since(3)[0].stream == "cues" and buffer.since(3)[0].arrival == 13.1
    assert buffer.wait(3, timeout=0.0) and not buffer.wait(4, timeout=0.01)
