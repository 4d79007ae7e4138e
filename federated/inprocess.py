"""A federation run inside one process: the ServerApp's rounds against the ClientApp, directly.

:class:`InProcessGrid` is a Flower :class:`~flwr.serverapp.Grid` whose messages are handed to
the ClientApp in this process instead of travelling through a SuperLink; exceptions become
error replies as a SuperNode makes them, and nodes can be taken offline (no reply, as a site
that dropped out). :func:`run_inprocess` runs the app's ServerApp ``main`` over it. The apps
and every step of the algorithm are those of a deployment or of Flower's simulation; only the
transport and the process per message are gone, which makes repeated experiments (the
benchmark's seeds and strategies) affordable on a small machine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flwr.app import Context, Error, Message, RecordDict
from flwr.common.constant import ErrorCode
from flwr.serverapp import Grid

if TYPE_CHECKING:
    from flwr.clientapp import ClientApp

SERVER_NODE_ID = 0
FIRST_NODE_ID = 1001


class InProcessGrid(Grid):
    """A grid of ``n_nodes`` simulated nodes whose ClientApp runs in this process.

    Parameters
    ----------
    client_app : ClientApp
        The app every node runs.
    run_config : mapping
        The run config (what ``flwr run --run-config`` would carry).
    n_nodes : int
        Nodes; node ``i`` gets the node config ``partition-id = i`` as in Flower's simulation.
    run_id : int
        Run identifier put in the messages.
    """

    replies_ready = True
    """Replies exist once messages are pushed (the server need not wait for more)."""

    def __init__(
        self,
        client_app: ClientApp,
        run_config: Mapping[str, Any],
        n_nodes: int,
        run_id: int = 1,
    ) -> None:
        from flwr.supercore.task_identity import TaskIdentity

        TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = run_id, SERVER_NODE_ID, 1
        self.client_app = client_app
        self.node_ids = [FIRST_NODE_ID + index for index in range(n_nodes)]
        self.offline: set[int] = set()
        self.contexts = {
            node: Context(
                run_id=run_id,
                node_id=node,
                node_config={"partition-id": index, "num-partitions": n_nodes},
                state=RecordDict(),
                run_config=dict(run_config),
            )
            for index, node in enumerate(self.node_ids)
        }
        self.context = Context(run_id, SERVER_NODE_ID, {}, RecordDict(), dict(run_config))
        self._replies: dict[str, Message] = {}
        self._run: Any = None

    def set_run(self, run: Any) -> None:
        """Keep the run description (unused in process)."""
        self._run = run

    @property
    def run(self) -> Any:
        """Return the run description."""
        return self._run

    def create_message(
        self,
        content: RecordDict,
        message_type: str,
        dst_node_id: int,
        group_id: str,
        ttl: float | None = None,
    ) -> Message:
        """Return a new message (as Flower's grids do)."""
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        """Return every node id, offline ones included (as before a SuperLink notices)."""
        return list(self.node_ids)

    def get_nodes(self) -> Iterable[Any]:
        """Return no node details (none are kept in process)."""
        return []

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Deliver each message to its node's ClientApp now; keep the replies for pulling."""
        ids = []
        for message in messages:
            message_id = uuid.uuid4().hex
            message.metadata.__dict__["_message_id"] = message_id
            ids.append(message_id)
            node = message.metadata.dst_node_id
            if node in self.offline or node not in self.contexts:
                continue
            self._replies[message_id] = self._deliver(message, self.contexts[node])
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """Return (and forget) the replies to ``message_ids`` that exist."""
        return [self._replies.pop(i) for i in message_ids if i in self._replies]

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        """Deliver ``messages`` and return the replies (none from offline nodes)."""
        return self.pull_messages(self.push_messages(messages))

    def _deliver(self, message: Message, context: Context) -> Message:
        """Hand a copy of ``message`` to the node's ClientApp (as a transport would)."""
        import copy

        try:
            return self.client_app(message=copy.deepcopy(message), context=context)
        except Exception as error:  # a failing site becomes an error reply, as on a SuperNode
            reason = f"{type(error)}:<'{error}'>"
            return Message(Error(ErrorCode.CLIENT_APP_RAISED_EXCEPTION, reason), reply_to=message)


def run_inprocess(
    run_config: Mapping[str, Any], n_nodes: int, *, offline: Iterable[int] = ()
) -> dict[str, Any]:
    """Run the federated app's ServerApp over an :class:`InProcessGrid`; return the history.

    Parameters
    ----------
    run_config : mapping
        Flat federation settings (see :meth:`~federated.config.FederationConfig.to_run_config`).
    n_nodes : int
        Nodes, one per site file of the federation's ``sites``.
    offline : iterable of int
        Indices of nodes that never reply.
    """
    from federated.server.rounds import run_server

    grid = InProcessGrid(load_client_app(), run_config, n_nodes)
    grid.offline = {grid.node_ids[index] for index in offline}
    return run_server(grid, grid.context)


def load_client_app() -> ClientApp:
    """Return the ClientApp object of the federated Flower app (``flower_app/``)."""
    import importlib.util

    from federated.deploy.processes import APP_DIR

    path = APP_DIR / "bci_flower" / "client_app.py"
    spec = importlib.util.spec_from_file_location("bci_flower_client_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app
