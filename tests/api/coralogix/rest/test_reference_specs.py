"""The spec files the package ships are Coralogix's reference specs, unmodified: the REST tests
validate against them when the reference folder is not beside the checkout."""

from __future__ import annotations

import pytest

from tests.api.coralogix.rest.conftest import PACKAGED_SPECS, SPEC_FILES, reference_dir


@pytest.mark.parametrize("file", sorted(SPEC_FILES.values()))
def test_packaged_specs_are_the_reference(file: str) -> None:
    folder = reference_dir()
    if folder is None:
        pytest.skip("no reference folder beside the checkout to compare with")
    packaged = (PACKAGED_SPECS / file).read_bytes()
    assert packaged == (folder / "coralogix-openapi" / file).read_bytes()
