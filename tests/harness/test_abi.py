"""ABI names: the aliases users type, and an error that lists the known ones."""
from __future__ import annotations

import pytest

from edgebench.errors import HarnessError
from edgebench.harness.abi import canonical_abi


def test_aliases_name_one_abi():
    assert canonical_abi("arm64-v8a-linux") == canonical_abi("aarch64-linux-gnu") == "aarch64-linux"
    assert canonical_abi("x86_64") == "x86_64" and canonical_abi("host") == "host"


def test_an_unknown_abi_is_an_error_listing_the_known_ones():
    with pytest.raises(HarnessError, match="unknown harness ABI 'mips'; expected one of: .*arm64-v8a.*host"):
        canonical_abi("mips")
