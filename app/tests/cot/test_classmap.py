"""Class -> CoT type mapping and its validation."""

from __future__ import annotations

import pytest

from detection_api.cot import CotTypeError, CotTypeMap


def test_defaults_map_common_classes_to_2525_atoms() -> None:
    types = CotTypeMap()
    assert types.cot_type("person", "cam") == "a-u-G-U-C-I"
    assert types.cot_type("vehicle", "cam") == "a-u-G-E-V"
    assert types.cot_type("car", "cam") == "a-u-G-E-V-C"
    assert types.cot_type("boat", "cam") == "a-u-S"
    assert types.cot_type("aircraft", "cam") == "a-u-A"
    assert types.cot_type("giraffe", "cam") == "a-u-G"
    assert types.cot_type("Person", "cam") == "a-u-G-U-C-I"


def test_affiliation_per_source() -> None:
    types = CotTypeMap(source_affiliations={"range-cam": "h"}, default_affiliation="p")
    assert types.cot_type("vehicle", "range-cam") == "a-h-G-E-V"
    assert types.cot_type("vehicle", "other") == "a-p-G-E-V"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"class_types": {"unknown": "a-u-G"}}, r"class_types\['unknown'\]"),
        ({"class_types": {"unknown": "a-{aff}-Q"}}, "not an atom type template"),
        ({"class_types": {"person": "a-{aff}-G"}}, "needs an entry for 'unknown'"),
        ({"class_types": {"Bad Name": "a-{aff}-G", "unknown": "a-{aff}-G"}}, "class name"),
        ({"default_affiliation": "z"}, "default_affiliation"),
        ({"source_affiliations": {"cam": "hostile"}}, r"source_affiliations\['cam'\]"),
    ],
)
def test_invalid_configuration_is_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CotTypeError, match=message):
        CotTypeMap(**kwargs)  # type: ignore[arg-type]
