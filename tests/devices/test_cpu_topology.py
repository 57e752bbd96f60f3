import pytest

from edgebench.devices.cpu_topology import CpuFacts, clusters_of, mask_cpus, named_masks, resolve_cpu_mask
from edgebench.errors import UsageError


def _sd845():  # Galaxy S9 (SD845): 4 little at 1766 MHz, 4 big at 2803 MHz (fixtures/real-device f_ captures)
    return [CpuFacts(i, None, 1766400 if i < 4 else 2803200) for i in range(8)]


def _kirin980():  # Mate 20: 4×A55 1.86 GHz, 2×A76 1.92 GHz, 2×A76 2.6 GHz
    freqs = [1862400] * 4 + [1920000] * 2 + [2600000] * 2
    return [CpuFacts(i, None, f) for i, f in enumerate(freqs)]


def test_two_clusters_by_frequency():
    masks = named_masks(clusters_of(_sd845()))
    assert masks == {"little": 0x0F, "big": 0xF0, "prime": 0xF0, "all": 0xFF}


def test_three_clusters_give_a_prime():
    masks = named_masks(clusters_of(_kirin980()))
    assert masks == {"little": 0x0F, "big": 0x30, "prime": 0xC0, "all": 0xFF}


def test_capacity_wins_over_frequency():
    cpus = [CpuFacts(0, 200, 3000000), CpuFacts(1, 200, 3000000), CpuFacts(2, 1024, 2000000)]
    assert named_masks(clusters_of(cpus))["prime"] == 0b100


def test_resolve():
    masks = named_masks(clusters_of(_sd845()))
    assert resolve_cpu_mask("big", masks) == "f0"
    assert resolve_cpu_mask("0xF0", None) == "f0"
    assert resolve_cpu_mask(None, masks) is None
    assert mask_cpus("f0") == [4, 5, 6, 7]
    with pytest.raises(UsageError, match="clusters"):
        resolve_cpu_mask("little", {})
    with pytest.raises(UsageError, match="non-zero hex"):
        resolve_cpu_mask("fast", masks)
