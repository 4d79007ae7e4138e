"""The ServerApp: runs the federation described by the run config (see ``federated.config``)."""

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run or resume the federation; write history, checkpoints and final models."""
    from federated.server.rounds import run_server

    run_server(grid, context)
