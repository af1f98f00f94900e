"""Records say which CPU made them: model, the ISA flags that decide numerics,
torch's kernel level and the MKL/oneDNN builds."""

import torch

from ganbench.core import record as rec
from ganbench.core.record import comparable, cpu_info, device_info

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_bf16 amx_tile amx_bf16 avx512_vnni

processor\t: 1
model name\t: a second core, never read
flags\t\t: fpu
"""
ARM = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm sve sve2 bf16

Hardware\t: some SoC
"""


def test_proc_cpuinfo_reads_model_and_flags_of_the_first_processor(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(X86)
    model, flags = rec._proc_cpuinfo(str(path))
    assert model == "Intel(R) Xeon(R) Platinum 8480+"
    assert {"avx512f", "avx512_bf16", "amx_bf16", "fma"} <= flags and "a" not in flags


def test_proc_cpuinfo_on_arm_and_where_there_is_none(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(ARM)
    assert rec._proc_cpuinfo(str(path)) == ("some SoC", {"fp", "asimd", "evtstrm", "sve", "sve2", "bf16"})
    assert rec._proc_cpuinfo(str(tmp_path / "missing")) == (None, set())


def test_cpu_info_keeps_only_numeric_isa_flags_in_a_fixed_order(tmp_path, monkeypatch):
    path = tmp_path / "cpuinfo"
    path.write_text(X86)
    original = rec._proc_cpuinfo
    monkeypatch.setattr(rec, "_proc_cpuinfo", lambda: original(str(path)))
    rec.cpu_info.cache_clear()
    try:
        info = cpu_info()
    finally:
        rec.cpu_info.cache_clear()
    assert info["name"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert info["isa"] == ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni",
                           "avx512_bf16", "amx_tile", "amx_bf16"]


def test_no_cpuinfo_falls_back_to_the_platform(monkeypatch):
    monkeypatch.setattr(rec, "_proc_cpuinfo", lambda: (None, set()))
    monkeypatch.setattr(rec.platform, "processor", lambda: "")
    monkeypatch.setattr(rec.platform, "machine", lambda: "arm64")
    rec.cpu_info.cache_clear()
    try:
        info = cpu_info()
    finally:
        rec.cpu_info.cache_clear()
    assert info["name"] == "arm64" and info["isa"] == []


def test_this_machines_record_names_its_cpu():
    info = device_info("cpu")
    assert info["type"] == "cpu" and info["threads"] == torch.get_num_threads()
    assert info["torch_capability"] == torch.backends.cpu.get_cpu_capability()
    assert info["cpus"] >= 1 and info["machine"]
    assert info["name"] not in ("", None)
    if torch.backends.mkldnn.is_available():
        assert info["onednn"] and info["onednn"][0].isdigit()


def test_device_stays_out_of_the_reproducibility_comparison():
    a = {"device": device_info("cpu"), "seed": 0}
    b = {"device": {**a["device"], "name": "another CPU", "isa": ["sse4_2"]}, "seed": 0}
    assert comparable(a) == comparable(b)
