from types import SimpleNamespace

from federated.server.exchange import send_and_receive


class SlowGrid:
    """Replies to message ``i`` from the ``delays[i]``-th pull on (None: never)."""

    def __init__(self, delays):
        self.delays = delays
        self.pulls = 0

    def push_messages(self, messages):
        return [f"m{index}" for index, _ in enumerate(messages)]

    def pull_messages(self, ids):
        self.pulls += 1
        ready = []
        for message_id in ids:
            delay = self.delays[int(message_id[1:])]
            if delay is not None and self.pulls >= delay:
                ready.append(
                    SimpleNamespace(metadata=SimpleNamespace(reply_to_message_id=message_id))
                )
        return ready


def replied(replies):
    return sorted(r.metadata.reply_to_message_id for r in replies)


def test_replies_are_pulled_until_every_node_answered():
    grid = SlowGrid([1, 3, 5])
    replies = send_and_receive(grid, ["a", "b", "c"], timeout=60, poll_s=0.01)
    assert replied(replies) == ["m0", "m1", "m2"]
    assert grid.pulls == 5


def test_a_silent_node_is_left_out_at_the_timeout():
    grid = SlowGrid([1, None])
    replies = send_and_receive(grid, ["a", "b"], timeout=0.2, poll_s=0.01)
    assert replied(replies) == ["m0"]
    assert grid.pulls > 1


def test_a_grid_with_replies_ready_is_asked_once():
    calls = []

    class Ready:
        replies_ready = True

        def send_and_receive(self, messages, *, timeout):
            calls.append(timeout)
            return [reply]

    reply = SimpleNamespace(metadata=SimpleNamespace(reply_to_message_id="m0"))
    assert send_and_receive(Ready(), ["a"], timeout=5) == [reply]
    assert calls == [5]
