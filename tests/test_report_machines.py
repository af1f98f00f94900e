"""The report says when its records come from different machines (whose rounding differs)."""

from ganbench.report import write_report
from ganbench.report.load import load_records
from tests.test_report_records import make_record, write_record

XEON = {"type": "cpu", "name": "Intel(R) Xeon(R) Platinum 8480+", "torch_capability": "AVX512", "threads": 1}
EPYC = {"type": "cpu", "name": "AMD EPYC", "torch_capability": "AVX2", "threads": 1}
NOTE = "These records come from"


def suite(root, devices):
    for seed, device in enumerate(devices):
        write_record(root, make_record("ring8", "lsgan", seed, {"modes": 8, "reverse_kl": 0.1}, device=device))


def readme(root, out):
    write_report(root, out, formats=("markdown",))
    return (out / "README.md").read_text()


def test_records_from_two_cpus_get_a_note_naming_both(tmp_path):
    suite(tmp_path / "r", [XEON, EPYC, EPYC])
    text = readme(tmp_path / "r", tmp_path / "out")
    assert f"{NOTE} 2 machines (AMD EPYC (AVX2); Intel(R) Xeon(R) Platinum 8480+ (AVX512))" in text


def test_one_cpu_or_an_old_record_gets_no_note(tmp_path):
    suite(tmp_path / "r", [XEON, XEON, None])  # a record without a device says nothing
    assert NOTE not in readme(tmp_path / "r", tmp_path / "out")
    machines = load_records(tmp_path / "r").runs.sort_values("seed")["machine"].tolist()
    assert machines == ["Intel(R) Xeon(R) Platinum 8480+ (AVX512)"] * 2 + [""]


def test_same_model_with_another_kernel_level_counts_as_another_machine(tmp_path):
    suite(tmp_path / "r", [XEON, {**XEON, "torch_capability": "AVX2"}])
    assert f"{NOTE} 2 machines" in readme(tmp_path / "r", tmp_path / "out")
