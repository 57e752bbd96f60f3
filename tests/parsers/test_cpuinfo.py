from __future__ import annotations

import pytest

from edgebench.errors import ParseError
from edgebench.parsers import parse_cpuinfo
from edgebench.parsers.cpu_parts import core_name


def test_galaxy_s9_sd845_capture(real):
    info = parse_cpuinfo(real("f_", "galaxy_s9_us_sd845_proc_cpuinfo.txt"))
    assert info.core_count == 8
    assert info.hardware == "Qualcomm Technologies, Inc SDM845"
    assert info.processor == "AArch64 Processor rev 12 (aarch64)"
    assert info.instruction_set == "arm64"
    little, big = info.cores[0], info.cores[4]
    assert (little.implementer, little.part, little.variant, little.revision) == (0x51, 0x803, 0x7, 12)
    assert (big.implementer, big.part, big.variant, big.revision) == (0x51, 0x802, 0x6, 13)
    assert [c.core_name for c in info.cores] == ["Kryo 3xx Silver"] * 4 + ["Kryo 3xx Gold"] * 4
    assert big.core_based_on == "Cortex-A75" and little.core_based_on == "Cortex-A55"
    assert little.implementer_name == "Qualcomm"
    assert "asimd" in little.features and len(little.features) == 11
    assert little.bogomips == 38.40
    assert little.model_name == "AArch64 Processor rev 12 (aarch64)"  # from the shared line


def test_huawei_mate20_kirin980_capture(real):
    info = parse_cpuinfo(real("f_", "huawei_mate20_kirin980_proc_cpuinfo.txt"))
    assert info.core_count == 8
    assert info.hardware is None and info.processor is None
    assert [c.core_name for c in info.cores] == ["Cortex-A55"] * 4 + ["Cortex-A76"] * 4
    assert {c.implementer for c in info.cores[4:]} == {0x48}  # HiSilicon's own id for its A76
    assert info.cores[7].implementer_name == "HiSilicon"
    assert [c.index for c in info.cores] == list(range(8))
    assert info.instruction_set == "arm64"


def test_tegra3_armv7_crlf_capture_shares_one_block(real):
    text = real("f_", "asus_tf201_tegra3_android3.2_proc_cpuinfo_crlf.txt")
    assert "\r\n" in text
    info = parse_cpuinfo(text)
    assert info.core_count == 4
    assert info.hardware == "cardhu"
    assert info.revision == "0000" and info.serial == "0245000001000000"
    assert info.instruction_set == "arm32"
    for core in info.cores:  # the shared block after the per-core blocks applies to all
        assert core.core_name == "Cortex-A9"
        assert (core.implementer, core.part, core.variant, core.revision) == (0x41, 0xC09, 2, 9)
        assert core.architecture == "7"
        assert core.features == ("swp", "half", "thumb", "fastmult", "vfp", "edsp", "neon", "vfpv3")
        assert core.bogomips == 1992.29
        assert core.model_name == "ARMv7 Processor rev 9 (v7l)"


# Made-up text in the kernel's arm (32-bit) format for a 64-bit CPU: `model name` per core.
ARM32_VIEW = """\
processor\t: 0
model name\t: ARMv8 Processor rev 4 (v8l)
BogoMIPS\t: 38.40
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt lpae evtstrm aes pmull sha1 sha2 crc32
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd03
CPU revision\t: 4

processor\t: 1
model name\t: ARMv8 Processor rev 1 (v8l)
BogoMIPS\t: 38.40
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt lpae evtstrm aes pmull sha1 sha2 crc32
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd0d
CPU revision\t: 1

Hardware\t: Generic DT based system
Revision\t: 0000
Serial\t\t: 0000000000000000
"""


def test_32bit_view_of_64bit_cpu():
    info = parse_cpuinfo(ARM32_VIEW)
    assert info.instruction_set == "arm32"
    assert [c.core_name for c in info.cores] == ["Cortex-A53", "Cortex-A77"]
    assert info.cores[1].model_name == "ARMv8 Processor rev 1 (v8l)"
    assert info.cores[0].architecture == "8"
    assert info.hardware == "Generic DT based system"


X86 = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 158
model name\t: Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz
cpu MHz\t\t: 3192.000
flags\t\t: fpu vme de pse tsc msr sse sse2 ssse3 sse4_1 sse4_2 avx avx2
bogomips\t: 6384.00
power management:

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz
cpu MHz\t\t: 3192.000
flags\t\t: fpu vme
bogomips\t: 6384.00
"""


def test_x86_emulator_host_format():
    info = parse_cpuinfo(X86.replace("\n", "\r\n"))
    assert info.core_count == 2 and info.instruction_set == "x86"
    core = info.cores[0]
    assert core.vendor_id == "GenuineIntel"
    assert core.model_name.startswith("Intel(R) Core(TM) i7-8700")
    assert core.cpu_mhz == 3192.0 and core.bogomips == 6384.0
    assert "avx2" in core.features
    assert core.implementer is None and core.core_name is None
    assert core.fields["power management"] == ""


def test_uniprocessor_arm_kernel_without_processor_lines():
    text = ("Processor\t: ARMv6-compatible processor rev 7 (v6l)\nBogoMIPS\t: 697.95\n"
            "Features\t: swp half thumb fastmult vfp edsp java tls\nCPU implementer\t: 0x41\n"
            "CPU architecture: 7\nCPU variant\t: 0x0\nCPU part\t: 0xb76\nCPU revision\t: 7\n\n"
            "Hardware\t: BCM2708\n")
    info = parse_cpuinfo(text)
    assert info.core_count == 1
    assert info.cores[0].core_name == "ARM1176"
    assert info.cores[0].bogomips == 697.95


def test_unknown_part_has_no_name_but_keeps_ids():
    info = parse_cpuinfo("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xfff\n")
    assert info.cores[0].part == 0xFFF and info.cores[0].core_name is None


@pytest.mark.parametrize("implementer, part, name", [
    (0x41, 0xD05, "Cortex-A55"), (0x41, 0xD0B, "Cortex-A76"), (0x41, 0xD0D, "Cortex-A77"),
    (0x41, 0xD41, "Cortex-A78"), (0x41, 0xD44, "Cortex-X1"), (0x41, 0xD46, "Cortex-A510"),
    (0x41, 0xD47, "Cortex-A710"), (0x41, 0xD48, "Cortex-X2"), (0x41, 0xD4E, "Cortex-X3"),
    (0x41, 0xD03, "Cortex-A53"), (0x41, 0xD0A, "Cortex-A75"), (0x51, 0x804, "Kryo 4xx Gold"),
    (0x51, 0x805, "Kryo 4xx Silver"), (0x53, 0x001, "Exynos M1"), (0x41, 0xD82, "Cortex-X4"),
])
def test_part_table(implementer, part, name):
    assert core_name(implementer, part).name == name


@pytest.mark.parametrize("text, fragment", [
    ("", "no `processor : N` entries"),
    ("hello world\n", "key<TAB>: value"),
    ("processor\t: zero\n", "processor index"),
    ("processor\t: 0\n\nprocessor\t: 0\n", "listed twice"),
    ("processor\t: 0\nCPU part\t: 0xZZ\n", "hex"),
    ("processor\t: 0\nBogoMIPS\t: fast\n", "expected a number"),
    ("processor\t: 0\nCPU part\t: 0x1\nCPU part\t: 0x2\n", "appears twice"),
    ("Hardware\t: foo\n", "no `processor : N` entries"),
])
def test_malformed_input_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_cpuinfo(text)
    assert fragment in str(info.value)
