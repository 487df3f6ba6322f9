"""``shoal`` argument parsing: flags, SHOAL_* environment variables, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.binary_connection import BinaryLimits
from broker.cli import build_parser, main, server_config
from broker.server import Durability, ServerConfig


def config(argv: list[str], env: dict[str, str] | None = None) -> ServerConfig:
    return server_config(build_parser(env or {}).parse_args(argv))


def test_defaults() -> None:
    args = build_parser({}).parse_args(["serve"])
    assert args.log_level == "info"
    assert config(["serve"]) == ServerConfig(
        host="127.0.0.1",
        port=4566,
        binary_port=4567,
        data_dir=Path("./shoal-data"),
        account_id="000000000000",
        region="us-east-1",
        durability=Durability.FSYNC,
    )


def test_flags() -> None:
    argv = [
        "serve",
        "--host=0.0.0.0",
        "--port",
        "9000",
        "--binary-port",
        "0",
        "--data-dir",
        "/tmp/q",
        "--account-id",
        "123456789012",
        "--region",
        "eu-west-1",
        "--durability",
        "relaxed",
    ]
    got = config(argv)
    assert (got.host, got.port, got.binary_port) == ("0.0.0.0", 9000, 0)
    assert got.data_dir == Path("/tmp/q")
    assert (got.account_id, got.region, got.durability) == ("123456789012", "eu-west-1", Durability.RELAXED)


def test_environment() -> None:
    env = {
        "SHOAL_PORT": "5000",
        "SHOAL_BINARY_PORT": "0",
        "SHOAL_DATA_DIR": "/var/lib/shoal",
        "SHOAL_ACCOUNT_ID": "111111111111",
        "SHOAL_REGION": "ap-south-1",
        "SHOAL_HOST": "::1",
        "SHOAL_DURABILITY": "relaxed",
        "SHOAL_LOG_LEVEL": "DEBUG",
    }
    got = config(["serve"], env)
    assert (got.host, got.port, got.binary_port) == ("::1", 5000, 0)
    assert got.data_dir == Path("/var/lib/shoal")
    assert (got.account_id, got.region, got.durability) == ("111111111111", "ap-south-1", Durability.RELAXED)
    assert build_parser(env).parse_args(["serve"]).log_level == "debug"


def test_binary_limits_from_flags_and_environment() -> None:
    got = config(
        ["serve", "--binary-max-connections", "10", "--binary-max-in-flight", "64"],
        {"SHOAL_BINARY_MAX_FRAME": "2097152", "SHOAL_BINARY_IDLE_TIMEOUT": "2.5"},
    )
    assert got.binary_limits == BinaryLimits(
        max_frame=2_097_152, max_in_flight=64, max_connections=10, idle_timeout=2.5
    )
    assert config(["serve"]).binary_limits == BinaryLimits()


def test_flag_wins_over_environment() -> None:
    got = config(
        ["serve", "--port", "6000", "--region", "us-west-2"], {"SHOAL_PORT": "5000", "SHOAL_REGION": "x"}
    )
    assert (got.port, got.region) == (6000, "us-west-2")


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["serve", "--port", "70000"], {}),
        (["serve", "--port", "http"], {}),
        (["serve"], {"SHOAL_PORT": "-1"}),
        (["serve", "--account-id", "12"], {}),
        (["serve", "--log-level", "loud"], {}),
        (["serve"], {"SHOAL_DURABILITY": "sometimes"}),
        (["serve", "--binary-max-in-flight", "0"], {}),
        (["serve", "--binary-max-frame", "big"], {}),
        (["serve"], {"SHOAL_BINARY_IDLE_TIMEOUT": "-1"}),
        (["serve", "--binary-idle-timeout", "nan"], {}),
        (["serve", "--binary-idle-timeout", "inf"], {}),
        (["serve", "--binary-max-frame", "1"], {}),
        (["serve", "--binary-max-frame", str(2**32)], {}),
        ([], {}),
    ],
)
def test_bad_values_are_usage_errors(
    argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser(env).parse_args(argv)
    assert exited.value.code == 2
    assert "shoal" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "env"), [(["serve", "--config", "shoal.toml"], {}), (["serve"], {"SHOAL_CONFIG": "shoal.toml"})]
)
def test_a_config_file_is_part_of_the_contract_but_refused_until_supported(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import broker.cli

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(broker.cli, "configure", lambda level: None)  # keep pytest's log capture
    assert main(argv) == 2
    assert "configuration files are not supported yet" in caplog.text


def test_bench_without_the_bench_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    def missing(name: str) -> object:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert main(["bench", "--rate", "10"]) == 2
    assert "bench" in capsys.readouterr().err


def test_bench_hands_its_arguments_over(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import types

    seen: list[list[str]] = []

    def bench_main(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    fake = types.SimpleNamespace(main=bench_main)
    monkeypatch.setattr(importlib, "import_module", lambda name: fake)
    assert main(["bench", "--rate", "10", "run"]) == 0
    assert seen == [["--rate", "10", "run"]]
