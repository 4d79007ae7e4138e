"""The ClientApp: one site training, evaluating and finishing.

Imports stay lean: every message starts a fresh process, and torch loads in the handlers.
Training messages pass through the secure-aggregation mod (Flower's SecAgg+ when the server
runs it). Every reply carries when it was made (``federated.client.timing``).
"""

import time

from flwr.app import Context, Message
from flwr.clientapp import ClientApp

from federated.client.secure import secure_aggregation_mod
from federated.client.timing import stamped

app = ClientApp()


@app.train(mods=[secure_aggregation_mod])
def train(message: Message, context: Context) -> Message:
    """Train one round on the site's trials (or answer SecAgg+'s other stages)."""
    started = time.time()
    from federated.client.handlers import handle_train

    return stamped(handle_train(message, context), started)


@app.evaluate()
def evaluate(message: Message, context: Context) -> Message:
    """Score the received model on the site's validation trials."""
    started = time.time()
    from federated.client.handlers import handle_evaluate

    return stamped(handle_evaluate(message, context), started)


@app.query()
def finish(message: Message, context: Context) -> Message:
    """Test, save and export the site's final model."""
    started = time.time()
    from federated.client.handlers import handle_finish

    return stamped(handle_finish(message, context), started)
