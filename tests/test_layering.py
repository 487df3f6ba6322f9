"""The dependency direction of DESIGN.md, checked by walking our sources' ASTs.

    sockets ──► protocol/ ──► broker/ (semantics) ──► storage/
                    ▲                                    │
                    └────── broker/server.py wires ◄─────┘

Rules (each test below checks one, and names every offending import with its
file, line and the rule it breaks):

- ``storage/`` imports nothing of ours, and no HTTP, XML, JSON or sockets.
- ``protocol/`` is sans-IO: of our code it imports only ``protocol.*`` and the
  pure type modules ``broker.errors``, ``broker.context``, ``broker.sqs.api``
  (transitively: what those import, and the package ``__init__`` files that
  importing them runs, must stay inside that set); never ``storage``, sockets,
  ``asyncio``, ``uvloop`` or ``lmdb``.  One named exception:
  ``protocol/client.py``, the binary protocol's client, is protocol/'s I/O
  edge and may use sockets and asyncio (still never storage or semantics).
- ``broker/`` semantics never import ``protocol``, sockets, asyncio streams or
  servers, HTTP, XML, JSON, msgpack, ``httptools``, ``uvloop`` or
  ``prometheus_client``, and never the server-edge modules themselves (that
  would drag the same things in one hop later).  The server edge is
  ``broker/server.py``, ``broker/http_*.py``, ``broker/binary_*.py``, ``broker/cli.py``,
  ``broker/__main__.py``, ``broker/metrics.py``, ``broker/logging_setup.py``.
  ``broker`` may import ``storage``.
- ``bench/`` may import anything; nothing of ours imports ``bench`` except
  ``broker/cli.py`` (the ``shoal bench`` subcommand).

Strategy: every ``import``/``from ... import`` anywhere in a module (also inside
functions and ``if TYPE_CHECKING:`` blocks: a type-only dependency is still a
dependency), plus ``importlib.import_module("...")``/``__import__("...")`` with
a literal name, is resolved to a dotted module name.  ``from pkg import name``
resolves to ``pkg.name`` when that is one of our modules, else to ``pkg``.
Relative imports are resolved against the importing module's package.  The
checker is tested on a small synthetic tree first, so a silent walker cannot
make the real checks pass vacuously.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = ("broker", "protocol", "storage", "bench")

PURE_TYPE_MODULES = frozenset({"broker.errors", "broker.context", "broker.sqs.api", "broker.sns.api"})
# Importing ``broker.sqs.api`` runs ``broker/__init__.py`` and ``broker/sqs/__init__.py``.
PURE_TYPE_PACKAGES = frozenset({"broker", "broker.sqs", "broker.sns"})

EDGE_MODULES = frozenset(
    {"broker.server", "broker.cli", "broker.__main__", "broker.metrics", "broker.logging_setup"}
)
EDGE_PATTERN = re.compile(r"broker\.(?:http|binary)_\w+")
BENCH_IMPORTERS = frozenset({"broker.cli"})
# Attribute values whose format AWS fixes as JSON (Policy, RedrivePolicy) are
# read and written in this one module; JSON as a wire format stays out of broker/.
JSON_DOCUMENT_MODULES = frozenset(
    {
        "broker.sqs.documents",
        # An SNS filter policy is a JSON document, and so are the MessageBody and the
        # String.Array attribute values it is matched against.
        "broker.sns.filter_policy",
        # SNS's topic policies, delivery policies, MessageStructure=json messages and the
        # notification envelope delivered to subscribers are JSON documents AWS defines.
        "broker.sns.documents",
    }
)


def _modules(pattern: str) -> re.Pattern[str]:
    """A dotted-name pattern matching the modules and all their submodules."""
    return re.compile(rf"(?:{pattern})(?:\..+)?")


SOCKETS = ("sockets", _modules(r"socket|socketserver|selectors|ssl"))
HTTP = ("HTTP", _modules(r"http\w*|h11|h2|aiohttp|requests|urllib3|urllib\.request"))
XML = ("XML", _modules(r"xml\w*|lxml|defusedxml"))
JSON = ("JSON", _modules(r"json|orjson|ujson|simplejson|rapidjson"))
MSGPACK = ("msgpack", _modules(r"msgpack"))
UVLOOP = ("the event loop implementation (uvloop)", _modules(r"uvloop"))
PROMETHEUS = ("metrics export (prometheus_client)", _modules(r"prometheus_client"))
ASYNCIO_IO = (
    "asyncio streams/servers/transports",
    _modules(
        r"asyncio\.(?:streams|protocols|transports|base_events|selector_events|"
        r"proactor_events|unix_events|windows_events|sslproto|trsock)"
    ),
)
ASYNCIO = ("asyncio (protocol/ is sans-IO)", _modules(r"asyncio"))
LMDB = ("LMDB (that is storage/'s job)", _modules(r"lmdb"))

STORAGE_FORBIDDEN = (SOCKETS, HTTP, XML, JSON)
PROTOCOL_FORBIDDEN = (SOCKETS, ASYNCIO, UVLOOP, LMDB)
# protocol/'s one I/O edge: the binary protocol's Python client opens sockets and
# runs an event loop, by design.  It may use sockets and asyncio, nothing else
# that protocol/ forbids; the codec modules it drives stay sans-IO.
PROTOCOL_IO_EDGE = frozenset({"protocol.client"})
PROTOCOL_IO_EDGE_FORBIDDEN = (UVLOOP, LMDB)
SEMANTICS_FORBIDDEN = (SOCKETS, HTTP, XML, JSON, MSGPACK, UVLOOP, PROMETHEUS, ASYNCIO_IO)

# Names that are asyncio's network I/O, whether imported (``from asyncio import
# start_server``) or used as ``asyncio.start_server``.
ASYNCIO_IO_NAMES = frozenset(
    {
        "StreamReader",
        "StreamWriter",
        "StreamReaderProtocol",
        "start_server",
        "open_connection",
        "start_unix_server",
        "open_unix_connection",
        "Server",
        "AbstractServer",
        "BaseProtocol",
        "Protocol",
        "BufferedProtocol",
        "DatagramProtocol",
        "SubprocessProtocol",
        "BaseTransport",
        "Transport",
        "ReadTransport",
        "WriteTransport",
        "DatagramTransport",
    }
)
# Event-loop methods that open sockets; no semantic module has a reason to call them.
LOOP_IO_METHODS = frozenset(
    {
        "create_server",
        "create_connection",
        "create_unix_server",
        "create_unix_connection",
        "create_datagram_endpoint",
        "connect_accepted_socket",
        "sock_accept",
        "sock_connect",
        "sock_recv",
        "sock_sendall",
    }
)


@dataclass(frozen=True, slots=True)
class Import:
    """One dependency edge: ``importer`` (at ``path:lineno``) uses ``target``."""

    importer: str
    target: str
    path: Path
    lineno: int
    names: tuple[str, ...] = ()

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.lineno}"


def discover(root: Path, packages: Iterable[str] = OUR_PACKAGES) -> dict[str, Path]:
    """Every module of our packages under ``root``: dotted name -> file."""
    found: dict[str, Path] = {}
    for package in packages:
        base = root / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve_relative(module: str, path: Path, level: int, name: str | None) -> str:
    package = _package_of(module, path).split(".")
    if level > 1:
        package = package[: len(package) - (level - 1)]
    return ".".join([*package, name] if name else package)


def imports_of(module: str, path: Path, known: Iterable[str]) -> Iterator[Import]:
    """The dependency edges of one module, resolved to dotted module names."""
    known = set(known)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(module, path, node.level, node.module)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                target = sub if sub in known else base
                yield Import(module, target, path, node.lineno, (alias.name,))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Import(module, first.value, path, node.lineno)


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def asyncio_io_uses(module: str, path: Path) -> Iterator[Import]:
    """Uses of asyncio's network I/O that an import list alone would miss."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {"asyncio"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update(a.asname for a in node.names if a.name == "asyncio" and a.asname)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "asyncio" and not node.level:
            for alias in node.names:
                if alias.name in ASYNCIO_IO_NAMES:
                    yield Import(module, f"asyncio.{alias.name}", path, node.lineno, (alias.name,))
        elif isinstance(node, ast.Attribute):
            is_asyncio = isinstance(node.value, ast.Name) and node.value.id in aliases
            if is_asyncio and node.attr in ASYNCIO_IO_NAMES:
                yield Import(module, f"asyncio.{node.attr}", path, node.lineno)
            if node.attr in LOOP_IO_METHODS:
                yield Import(module, f"<event loop>.{node.attr}()", path, node.lineno)


def is_ours(target: str) -> bool:
    return target.split(".")[0] in OUR_PACKAGES


def in_package(target: str, package: str) -> bool:
    return target == package or target.startswith(package + ".")


def is_edge(module: str) -> bool:
    return module in EDGE_MODULES or EDGE_PATTERN.fullmatch(module) is not None


def forbidden_reason(target: str, table: Iterable[tuple[str, re.Pattern[str]]]) -> str | None:
    for reason, pattern in table:
        if pattern.fullmatch(target):
            return reason
    return None


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


# ---------------------------------------------------------------------------
# The rules, as functions from a tree to a list of violations (human-readable).
# ---------------------------------------------------------------------------


class Graph:
    """Our modules under ``root`` and their import edges."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = discover(root)
        self.edges: dict[str, list[Import]] = {
            name: list(imports_of(name, path, self.modules)) for name, path in self.modules.items()
        }

    def in_layer(self, package: str) -> list[str]:
        return [m for m in self.modules if in_package(m, package)]

    def line(self, imp: Import, rule: str) -> str:
        return f"{imp.where(self.root)}: {imp.importer} imports {imp.target} -- {rule}"


def _by_location(violation: str) -> tuple[str, int]:
    where = violation.split(": ", 1)[0]
    file, _, line = where.rpartition(":")
    return file, int(line)


def storage_violations(g: Graph) -> list[str]:
    out = []
    for module in g.in_layer("storage"):
        for imp in g.edges[module]:
            if is_ours(imp.target) and not in_package(imp.target, "storage"):
                out.append(g.line(imp, "storage/ imports nothing of ours (it is the bottom layer)"))
            elif reason := forbidden_reason(imp.target, STORAGE_FORBIDDEN):
                out.append(g.line(imp, f"storage/ knows nothing of {reason}"))
    return sorted(out, key=_by_location)


def _protocol_may_use(target: str) -> bool:
    return in_package(target, "protocol") or target in PURE_TYPE_MODULES


def protocol_violations(g: Graph) -> list[str]:
    out = []
    for module in g.in_layer("protocol"):
        for imp in g.edges[module]:
            if is_ours(imp.target) and not _protocol_may_use(imp.target):
                if in_package(imp.target, "storage"):
                    rule = "protocol/ never imports storage"
                else:
                    rule = (
                        "protocol/ may import of our code only protocol.* and the pure type modules "
                        + ", ".join(sorted(PURE_TYPE_MODULES))
                    )
                out.append(g.line(imp, rule))
            elif reason := forbidden_reason(
                imp.target, PROTOCOL_IO_EDGE_FORBIDDEN if module in PROTOCOL_IO_EDGE else PROTOCOL_FORBIDDEN
            ):
                out.append(g.line(imp, f"protocol/ is sans-IO and never imports {reason}"))
    return sorted(out, key=_by_location)


def protocol_closure_violations(g: Graph) -> list[str]:
    """What importing a protocol module runs must stay protocol + pure types.

    A pure type module that imports broker semantics (or a ``broker/__init__.py``
    that does) would make protocol/ depend on them one hop later.
    """
    out: set[str] = set()
    for start in g.in_layer("protocol"):
        chain: dict[str, list[str]] = {start: [start]}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for imp in g.edges.get(current, []):
                if not is_ours(imp.target):
                    continue
                for reached in [*_parents(imp.target), imp.target]:
                    if reached in chain or reached not in g.modules:
                        continue
                    chain[reached] = [*chain[current], reached]
                    if not (_protocol_may_use(reached) or reached in PURE_TYPE_PACKAGES):
                        path = " -> ".join(chain[reached])
                        out.add(
                            f"{imp.where(g.root)}: importing {start} runs {reached} ({path}) -- "
                            "protocol/ may depend (also transitively) only on protocol.* and the "
                            "pure type modules, which must import nothing else of ours"
                        )
                    else:
                        queue.append(reached)
    return sorted(out, key=_by_location)


def semantics_violations(g: Graph) -> list[str]:
    out = []
    for module in g.in_layer("broker"):
        if is_edge(module):
            continue
        for imp in asyncio_io_uses(module, g.modules[module]):
            out.append(g.line(imp, "broker/ semantics never use asyncio streams/servers/sockets"))
        for imp in g.edges[module]:
            if in_package(imp.target, "protocol"):
                out.append(g.line(imp, "broker/ semantics never import protocol/ (server.py wires them)"))
            elif is_ours(imp.target) and is_edge(imp.target):
                out.append(
                    g.line(
                        imp,
                        "broker/ semantics never import the server edge; expose state "
                        "(e.g. statistics()) and let the edge read it",
                    )
                )
            elif module in JSON_DOCUMENT_MODULES and imp.target == "json":
                continue
            elif reason := forbidden_reason(imp.target, SEMANTICS_FORBIDDEN):
                out.append(g.line(imp, f"broker/ semantics are protocol-agnostic: no {reason}"))
    return sorted(out, key=_by_location)


def bench_violations(g: Graph) -> list[str]:
    out = []
    for module, edges in g.edges.items():
        if in_package(module, "bench") or module in BENCH_IMPORTERS:
            continue
        for imp in edges:
            if in_package(imp.target, "bench"):
                out.append(g.line(imp, "nothing imports bench/ except broker/cli.py"))
    return sorted(out, key=_by_location)


RULES = {
    "storage": storage_violations,
    "protocol": protocol_violations,
    "protocol-closure": protocol_closure_violations,
    "broker-semantics": semantics_violations,
    "bench": bench_violations,
}


# ---------------------------------------------------------------------------
# The checker on a synthetic tree: every rule must fire where it should.
# ---------------------------------------------------------------------------

SYNTHETIC = {
    "storage/__init__.py": "",
    "storage/log.py": "import lmdb\nimport msgpack\nfrom broker import errors\nimport json\n",
    "protocol/__init__.py": "",
    "protocol/sqs_json.py": (
        "import orjson\nfrom broker.errors import ShoalError\nfrom broker.sqs import api\n"
        "from . import xmlish\nfrom ..storage import log\nimport asyncio\n"
    ),
    "protocol/xmlish.py": "from broker.context import RequestContext\n",
    "protocol/wire.py": "",
    "protocol/sneaky.py": "from broker.sqs.api import SendMessage\n",
    "broker/__init__.py": "",
    "broker/errors.py": "",
    "broker/context.py": "",
    "broker/sqs/__init__.py": "from broker.sqs.queue import Queue\n",
    "broker/sqs/api.py": "",
    "broker/sqs/queue.py": (
        "import asyncio\nfrom asyncio import Future, StreamWriter\nimport storage.log\n"
        "from protocol import wire\nfrom .. import metrics\n"
        "def f(loop):\n    loop.create_server()\n    return asyncio.start_server\n"
        "def g():\n    import orjson\n    from bench.cli import main\n"
        "    importlib.import_module('xml.etree.ElementTree')\n"
    ),
    "broker/server.py": "import socket\nimport protocol.sqs_json\nimport uvloop\nimport orjson\n",
    "broker/http_conn.py": "import httptools\n",
    "broker/metrics.py": "import prometheus_client\n",
    "broker/cli.py": "from bench.cli import main\n",
    "bench/__init__.py": "",
    "bench/cli.py": "import orjson\nimport broker.cli\nimport asyncio\n",
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    root = tmp_path_factory.mktemp("tree")
    for rel, text in SYNTHETIC.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return Graph(root)


def test_checker_resolves_imports(synthetic: Graph) -> None:
    targets = {imp.target for imp in synthetic.edges["protocol.sqs_json"]}
    assert targets == {
        "orjson",
        "broker.errors",
        "broker.sqs.api",
        "protocol.xmlish",
        "storage.log",
        "asyncio",
    }
    dynamic = {imp.target for imp in synthetic.edges["broker.sqs.queue"]}
    assert {"xml.etree.ElementTree", "bench.cli", "broker.metrics", "orjson"} <= dynamic


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("storage", ["storage.log imports broker.errors", "storage.log imports json"]),
        ("protocol", ["protocol.sqs_json imports storage.log", "protocol.sqs_json imports asyncio"]),
        ("protocol-closure", ["runs broker.sqs.queue"]),
        (
            "broker-semantics",
            [
                "imports asyncio.StreamWriter",
                "imports protocol.wire",
                "imports broker.metrics",
                "imports <event loop>.create_server()",
                "imports asyncio.start_server",
                "imports orjson",
                "imports xml.etree.ElementTree",
            ],
        ),
        ("bench", ["broker.sqs.queue imports bench.cli"]),
    ],
)
def test_checker_finds_violations(synthetic: Graph, rule: str, expected: list[str]) -> None:
    found = "\n".join(RULES[rule](synthetic))
    for fragment in expected:
        assert fragment in found, f"rule {rule!r} missed {fragment!r}; it found:\n{found}"


def test_checker_allows_what_the_design_allows(synthetic: Graph) -> None:
    found = "\n".join(v for rule in RULES.values() for v in rule(synthetic))
    for allowed in [
        "storage.log imports lmdb",
        "storage.log imports msgpack",
        "protocol.sqs_json imports orjson",
        "protocol.sqs_json imports broker.errors",
        "protocol.xmlish imports broker.context",
        "broker.sqs.queue imports storage.log",
        "broker.sqs.queue imports asyncio --",
        "imports asyncio.Future",
        "broker.server",
        "broker.http_conn",
        "broker.metrics imports",
        "broker.cli imports bench",
        "bench.cli imports",
    ]:
        assert allowed not in found, f"{allowed!r} is allowed, but was reported:\n{found}"


# ---------------------------------------------------------------------------
# The real tree.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Graph:
    return Graph(ROOT)


def test_our_packages_are_found(real: Graph) -> None:
    missing = [p for p in ("broker", "protocol", "storage") if p not in real.modules]
    assert not missing, f"packages not found under {ROOT}: {missing}"


@pytest.mark.parametrize("rule", list(RULES))
def test_layering(real: Graph, rule: str) -> None:
    violations = RULES[rule](real)
    assert not violations, (
        f"layering rule {rule!r} broken (see DESIGN.md 'Layers' and tests/test_layering.py):\n  "
        + "\n  ".join(violations)
    )
