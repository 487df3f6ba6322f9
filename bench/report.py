"""The summary of a run, as a dict (``--json``) and as text.

Rules: the text is rendered from the dict, so both always say the same thing.
Latencies are in milliseconds, per action; rates are per second of the
measured window.  A generator near one full core is flagged: past that, the
numbers measure the load tool, not the server.
"""

from __future__ import annotations

from typing import Any

from bench.check import describe
from bench.run import Results

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9))
CPU_WARNING = 0.85


def summary(results: Results) -> dict[str, Any]:
    o = results.options
    window = results.window or 1e-9
    latency: dict[str, dict[str, float]] = {}
    for action, h in sorted(results.latency.items()):
        row: dict[str, float] = {"count": h.count, "mean": round(h.mean / 1000, 3)}
        row.update({name: h.percentile(p) / 1000 for name, p in PERCENTILES})
        row["max"] = h.max / 1000
        latency[action] = row
    return {
        "scenario": o.scenario,
        "endpoint": o.endpoint,
        "queue": o.queue,
        "queue_url": results.queue_url,
        "connections": o.connections,
        "duration_s": round(results.window, 3),
        "warmup_s": o.warmup,
        "message_size": o.message_size,
        "messages": results.messages,
        "requests": results.requests,
        "msgs_per_s": round(results.messages / window, 1),
        "requests_per_s": round(results.requests / window, 1),
        "latency_ms": latency,
        "errors": dict(results.errors.most_common()),
        "empty_receives": results.empty_receives,
        "bench_cpu_percent": round(results.cpu * 100, 1),
        "protocol": o.protocol,
        "rate": o.rate or None,
        "check": results.check,
        "details": results.details,
        "failure": results.failure or None,
    }


def _ms(value: float) -> str:
    return f"{value:.3g} ms" if value < 100 else f"{value:,.0f} ms"


def _value(v: object) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def text(s: dict[str, Any]) -> str:
    lines = [
        f"scenario   {s['scenario']}: {s['connections']} connections, {s['duration_s']:.1f} s measured "
        f"after {s['warmup_s']:g} s warmup, {s['message_size']}-byte messages",
        f"endpoint   {s['endpoint']} ({s.get('protocol', 'json')})  queue {s['queue_url'] or s['queue']}",
        f"throughput {s['msgs_per_s']:,.0f} msgs/s   {s['requests_per_s']:,.0f} requests/s   "
        f"({s['messages']:,} messages, {s['requests']:,} requests)",
    ]
    for action, row in s["latency_ms"].items():
        cells = "  ".join(f"{name} {_ms(row[name])}" for name, _ in PERCENTILES)
        unit = "messages" if action == "end-to-end" else "requests"
        lines.append(f"latency    {action}: {cells}  max {_ms(row['max'])}  ({row['count']:,} {unit})")
    if not s["latency_ms"]:
        lines.append("latency    no request completed in the measured window")
    if s["empty_receives"]:
        lines.append(f"empty      {s['empty_receives']:,} receives returned no message")
    if s.get("rate"):
        lines.append(f"schedule   open loop at {s['rate']:,g} msgs/s (latency from each intended send time)")
    if s.get("details"):
        lines.append("details    " + "  ".join(f"{k} {_value(v)}" for k, v in s["details"].items()))
    if s.get("check") is not None:
        lines.append(f"check      {describe(s['check'])}")
    if s.get("failure"):
        lines.append(f"failure    {s['failure']}")
    errors = ", ".join(f"{code} {n:,}" for code, n in s["errors"].items())
    lines.append(f"errors     {errors or 'none'}")
    cpu = s["bench_cpu_percent"]
    hint = "  <- the generator is likely the bottleneck" if cpu >= CPU_WARNING * 100 else ""
    lines.append(f"bench CPU: {cpu:.0f}% of one core{hint}")
    return "\n".join(lines) + "\n"
