from edgebench.study.run import VariantRow
from edgebench.study.table import study_table


def _row(**kw):
    base = dict(source="default", trained_id="t" * 64, hyperparameters={}, val_accuracy=0.9, variant="int8",
                tflite_sha256="ab" * 32, tflite_path="/x.tflite", size_bytes=20480, gzip_size_bytes=10240,
                test_accuracy=0.912, latency_median_us=812.0, energy_mj_per_inference=None, simulated=None,
                run_ids=("r",), status="measured", problem=None, non_dominated=True)
    return VariantRow(**{**base, **kw})


def test_table_marks_the_front_simulated_energy_and_what_was_not_measured():
    text = study_table([_row(), _row(variant="fp32", non_dominated=False, energy_mj_per_inference=0.48, simulated=True),
                        _row(variant="qat", tflite_sha256=None, size_bytes=None, gzip_size_bytes=None,
                             test_accuracy=None, latency_median_us=None, status="build_failed", non_dominated=False)])
    int8, fp32, qat = text.splitlines()[1:4]
    assert "int8" in int8 and "0.912" in int8 and "20 kB" in int8 and "812 µs" in int8 and " * " in int8
    assert "abababababab" in int8
    assert "0.48 mJ (sim)" in fp32 and " * " not in fp32
    assert qat.split()[-1] == "build_failed" and "—" in qat
