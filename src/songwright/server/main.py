"""`songwright serve` and `songwright worker`: start the app under uvicorn, or an RQ worker."""

from __future__ import annotations

import logging

from ..errors import MissingDependency
from .config import ServerConfig


def serve(config: ServerConfig) -> None:
    try:
        import uvicorn
    except ImportError as error:
        raise MissingDependency(f"the server ({error.name})", 'pip install "songwright[server]"') from error
    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_level="info", timeout_graceful_shutdown=5)


def work(*, queue: str, data_dir, checkpoint: str | None, burst: bool = False) -> None:
    try:
        import rq  # noqa: F401
    except ImportError as error:
        raise MissingDependency(f"the worker ({error.name})", 'pip install "songwright[server]"') from error
    from .redis_queue import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_worker(queue=queue, data_dir=data_dir, checkpoint=checkpoint, burst=burst)
