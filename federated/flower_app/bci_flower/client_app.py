"""The ClientApp: one site training, evaluating and finishing.

Imports stay lean: every message starts a fresh process, and torch loads in the handlers.
"""

from flwr.app import Context, Message
from flwr.clientapp import ClientApp

app = ClientApp()


@app.train()
def train(message: Message, context: Context) -> Message:
    """Train one round on the site's trials."""
    from federated.client.handlers import handle_train

    return handle_train(message, context)


@app.evaluate()
def evaluate(message: Message, context: Context) -> Message:
    """Score the received model on the site's validation trials."""
    from federated.client.handlers import handle_evaluate

    return handle_evaluate(message, context)


@app.query()
def finish(message: Message, context: Context) -> Message:
    """Test, save and export the site's final model."""
    from federated.client.handlers import handle_finish

    return handle_finish(message, context)
