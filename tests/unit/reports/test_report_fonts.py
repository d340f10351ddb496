"""Finding and registering the CJK font, and the errors when it is missing or unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports import FontError, FontSpec, locate_cjk_font, register_font


def test_a_configured_font_that_does_not_exist_is_named_with_the_setup_step(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-font.ttc"
    with pytest.raises(FontError, match=r"no-such-font\.ttc does not exist") as error:
        locate_cjk_font(missing)
    assert "apt-get install fonts-wqy-microhei" in str(error.value)


def test_a_configured_font_is_used_as_given(tmp_path: Path) -> None:
    font = tmp_path / "custom.ttc"
    font.write_bytes(b"\0")
    assert locate_cjk_font(font, 2) == FontSpec(font, 2)


def test_a_file_that_is_not_a_truetype_font_cannot_be_registered(tmp_path: Path) -> None:
    fake = tmp_path / "fake.otf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)  # a CFF OpenType header, no TrueType outlines
    with pytest.raises(FontError, match="cannot be embedded"):
        register_font(FontSpec(fake))


def test_the_default_font_is_a_wenquanyi_truetype_collection(font: str) -> None:
    spec = locate_cjk_font()
    assert spec.path.name == "wqy-microhei.ttc"
    assert register_font(spec) == font  # registered once, reused
