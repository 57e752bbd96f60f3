"""The results store's tables (SQLAlchemy Core). Tidy: one row per thing, raw samples kept.

Bump SCHEMA_VERSION whenever a table changes; the store refuses to open a file of another version.

Text that comes from devices, tools or users (vendor strings, file names, serials, sysfs paths, what the
runtime reports) is Text, not String(n): PostgreSQL enforces a VARCHAR's length where SQLite does not,
and a run SQLite keeps must not be refused by PostgreSQL. (They were String(n) until PostgreSQL support
came; SQLite ignores the length, so stores of version 5 made before are the same schema.)
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, BigInteger)

# 2: runs.engine, nullable percentiles; 3: energy table (battery profiling);
# 4: energy.rails_json (ODPM power rails), artifacts + artifact_links (lineage); 5: runs.input_shapes_json
# (the input shapes each run ran at). 3 -> 4 -> 5 are migrated in place.
SCHEMA_VERSION = 5

metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("session", String(64), primary_key=True),
    Column("started_at_utc", String(32), nullable=False),
    Column("command", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("edgebench_version", String(32), nullable=False),
)

devices = Table(
    "devices", metadata,
    Column("device_id", String(128), primary_key=True),  # ro.serialno+fingerprint hash or machine id
    Column("device_kind", String(16), nullable=False),
    Column("manufacturer", Text),
    Column("model", Text),
    Column("soc", Text),
    Column("abi", Text),
    Column("os_version", Text),
    Column("info_json", Text, nullable=False),
)

variants = Table(
    "variants", metadata,
    Column("model_sha256", String(64), primary_key=True),  # content address of the .tflite
    Column("name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("info_json", Text, nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("run_id", String(32), primary_key=True),
    Column("run_key", String(64), nullable=False),
    Column("session", String(64), ForeignKey("sessions.session"), nullable=False),
    Column("model_sha256", String(64), ForeignKey("variants.model_sha256"), nullable=False),
    Column("model", Text, nullable=False),
    Column("device_id", String(128), ForeignKey("devices.device_id"), nullable=False),
    Column("target", Text, nullable=False),
    Column("threads", Integer, nullable=False),
    Column("accelerator", String(16), nullable=False),
    Column("cpu_mask", String(32)),
    Column("protocol", String(32), nullable=False),
    Column("protocol_json", Text, nullable=False),
    Column("repeat", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("device_kind", String(16), nullable=False),
    Column("latency_source", String(16), nullable=False),
    Column("energy_source", String(16), nullable=False),
    Column("simulated", Boolean, nullable=False),
    Column("engine", String(32), nullable=False),
    Column("harness_build_id", String(64)),
    Column("runtime_sha256", String(64)),
    Column("runtime_api_generation", Text),
    Column("accelerator_used", Text),
    Column("fallback_reason", Text),
    Column("output_checksum", String(32)),
    Column("init_ms", Float),
    Column("first_inference_us", Float),
    Column("peak_rss_kb", Integer),
    Column("threads_observed", Integer),
    Column("model_size_bytes", BigInteger, nullable=False),
    Column("started_at_utc", String(32)),
    Column("wall_seconds", Float),
    # [{name, signature, shape, source}] as the runner reported them; NULL for runs stored before v5
    # (shapes unknown), "[]" for runs that never reached the runner's setup.
    Column("input_shapes_json", Text),
    UniqueConstraint("run_key", name="uq_runs_run_key"),
)

summaries = Table(
    "summaries", metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("min_us", Float, nullable=False),
    Column("p10_us", Float),
    Column("median_us", Float),
    Column("p90_us", Float),
    Column("p99_us", Float),
    Column("max_us", Float, nullable=False),
    Column("mean_us", Float, nullable=False),
    Column("std_us", Float),
)

checks = Table(
    "checks", metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", Text),
    Column("advisory", Boolean, nullable=False),
    UniqueConstraint("run_id", "name", name="uq_checks_run_name"),
)

latency_samples = Table(
    "latency_samples", metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("phase", String(8), nullable=False),  # warmup | timed
    Column("idx", Integer, nullable=False),
    Column("latency_us", Float, nullable=False),
    Column("start_ns", BigInteger),  # CLOCK_BOOTTIME on the device
    Index("ix_latency_samples_run", "run_id"),
)

device_samples = Table(
    "device_samples", metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("t_ns", BigInteger, nullable=False),  # CLOCK_BOOTTIME on the device
    Column("channel", Text, nullable=False),  # the sysfs/procfs node read
    Column("value_text", Text),  # raw text as read: units and sign are decided at analysis time
    Index("ix_device_samples_run", "run_id"),
)

# One battery profiling run's energy figures: idle power before and after the workload, active power over
# the measured window, energy per inference net of idle and gross, and the charge-counter cross-check.
energy = Table(
    "energy", metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("energy_source", String(16), nullable=False),  # measured | simulated
    Column("idle_pre_power_mw", Float), Column("idle_post_power_mw", Float), Column("idle_power_mw", Float),
    Column("active_power_mw", Float), Column("measured_seconds", Float), Column("inferences", Integer),
    Column("energy_per_inference_mj", Float), Column("gross_energy_per_inference_mj", Float),
    Column("charge_counter_energy_mj", Float), Column("current_integral_energy_mj", Float),
    Column("calibration_json", Text, nullable=False),
    Column("power_path", Text, nullable=False),
    Column("device_changes_json", Text, nullable=False),
    Column("rails_json", Text),  # per-rail ODPM energy figures where the device has rails; NULL otherwise
)

# Lineage: every artifact of train -> optimize -> convert, by its content-addressed id, and what it
# was made from. A converted artifact's id is the sha256 of its .tflite bytes, which is what
# variants.model_sha256 and runs.model_sha256 hold: runs -> .tflite -> variant -> trained -> hyperparameters.
artifacts = Table(
    "artifacts", metadata,
    Column("artifact_id", String(64), primary_key=True),
    Column("kind", String(24), nullable=False),  # hyperparameters | trained | transformed | converted
    Column("architecture", String(64)),
    Column("label", Text, nullable=False),  # variant or transform name, or the training configuration
    Column("record_json", Text, nullable=False),  # the artifact's own record (ArtifactStore record.json)
    Column("created_utc", String(32)),
)

artifact_links = Table(
    "artifact_links", metadata,
    Column("child_id", String(64), ForeignKey("artifacts.artifact_id"), nullable=False),
    Column("parent_id", String(64), ForeignKey("artifacts.artifact_id"), nullable=False),
    Column("relation", String(24), nullable=False),  # trained_with | transformed_from | converted_from
    Column("detail", Text, nullable=False),  # e.g. the recipe that made this child from this parent
    UniqueConstraint("child_id", "parent_id", "detail", name="uq_artifact_links"),
    Index("ix_artifact_links_child", "child_id"),
)

# Failed attempts that a resume replaced: kept so nothing stored is lost.
run_attempts = Table(
    "run_attempts", metadata,
    Column("run_key", String(64), nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("session", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("started_at_utc", String(32)),
)
