"""End-to-end fixtures: the real server process, real boto3, raw HTTP.

Rules: e2e tests never reach into internals.  They talk to a ``shoal serve``
child process over TCP exactly as users do, and may kill it (SIGKILL), restart
it on the same data dir and port, or stop it (SIGTERM, which must exit 0).

- ``server`` (module-scoped): one server per test module, on a free port with
  a fresh data dir and the binary listener off.  A test that kills it must
  ``restart()`` it before returning; teardown stops it and checks the exit code.
- ``start_server`` (function-scoped factory): a private server for tests that
  need their own (several nodes, odd flags); all are stopped at teardown.
- ``sqs`` (module-scoped, like the server): a boto3 SQS client on ``server``
  (AWS JSON 1.0, as current botocore speaks), retries off so a failure shows
  the first answer.  For a ``start_server`` server, use ``client_for(srv)``.
- ``sqs_query``: a boto3 SQS client that speaks the Query protocol (form
  encoded request, XML response), from botocore's model re-annotated with the
  Query serialization names (see ``query_model``).
- ``queue_name``: a factory of unique queue names (``name()``, ``name(fifo=True)``).
- ``raw_http``: raw HTTP/1.1 requests with http.client (``raw_http.request(...)``,
  ``raw_http.sqs_json(action, params)``, ``raw_http.sqs_query(action, params)``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from shoal_server import RawHttp, ServerProcess, _counter, _new_server, client_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = _new_server(tmp_path_factory.mktemp("shoal"))
    srv.start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServerProcess]]:
    """``start_server(*extra_args)``: a private, started server."""
    started: list[ServerProcess] = []

    def start(*extra_args: str) -> ServerProcess:
        srv = _new_server(tmp_path_factory.mktemp("shoal"), extra_args)
        started.append(srv)
        srv.start()
        return srv

    yield start
    for srv in started:
        if srv.running:
            srv.stop()


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    """boto3 SQS client (AWS JSON 1.0) on the module's server (shared: clients are stateless)."""
    return client_for(server)


@pytest.fixture(scope="module")
def sqs_query(server: ServerProcess) -> Any:
    """boto3 SQS client that speaks the Query protocol (form in, XML out)."""
    return client_for(server, query=True)


@pytest.fixture
def queue_name(request: pytest.FixtureRequest) -> Callable[..., str]:
    """``queue_name()`` -> ``e2e-<test>-<n>-<random>``; ``queue_name(fifo=True)`` adds ``.fifo``.

    Names stay within SQS's 80 characters of ``[A-Za-z0-9_-]``.
    """
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:40]

    def make(fifo: bool = False) -> str:
        name = f"e2e-{stem}-{next(_counter)}-{uuid.uuid4().hex[:8]}"
        return name + ".fifo" if fifo else name

    return make


@pytest.fixture
def raw_http(server: ServerProcess) -> RawHttp:
    return RawHttp(server)
