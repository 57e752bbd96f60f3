"""Every text format `inspect` knows, in one list. Parser modules add their TextFormat here."""
from __future__ import annotations

from edgebench.harness import report as _harness_report
from edgebench.inspect import benchmark_model as _benchmark_model
from edgebench.inspect.registry import TextFormat

TEXT_FORMATS: list[TextFormat] = [
    TextFormat("benchmark_model",
               "TFLite/LiteRT benchmark_model output (all generations, failed runs, op profiles)",
               _benchmark_model.sniff, _benchmark_model.parse_benchmark_model),
    TextFormat("edgebench_harness", "edgebench runner output (runner.jsonl, schema 1)",
               _harness_report.sniff, _harness_report.parse_harness_report),
]

from edgebench.inspect.device_formats import DEVICE_FORMATS as _DEVICE_FORMATS  # noqa: E402
TEXT_FORMATS.extend(_DEVICE_FORMATS)
