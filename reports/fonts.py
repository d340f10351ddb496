"""The CJK font reports embed: where to find it, and registering it with ReportLab once.

ReportLab embeds and subsets TrueType-outline fonts (``.ttf``, or a ``.ttc`` collection with a
sub-font index); CFF-based OpenType (``.otf``, e.g. Noto Sans CJK) does not load, and its built-in
CID fonts (STSong-Light) are never embedded. The default is WenQuanYi Micro Hei
(``wqy-microhei.ttc``, sub-font 0; Apache License 2.0 or GPLv3 with the font exception, both of
which allow embedding), found in this order:

1. the path configured (``FINANCE_ENGINE_REPORT_FONT``), which must then exist;
2. the font shipped by the ``paperang-p2-fonts-cjk`` wheel, when installed;
3. Debian/Ubuntu's ``fonts-wqy-microhei`` package (``apt-get install fonts-wqy-microhei``).
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

SYSTEM_FONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)
"""Where distributions install WenQuanYi Micro Hei (Debian/Ubuntu, Fedora)."""

PACKAGED_FONTS: tuple[tuple[str, str], ...] = (("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"),)
"""(importable package, path inside it) of PyPI wheels that ship the same font file."""

SETUP_HINT = (
    "install a CJK TrueType font: `apt-get install fonts-wqy-microhei` (Debian/Ubuntu), or set "
    "FINANCE_ENGINE_REPORT_FONT to a .ttf/.ttc file with TrueType outlines"
)


class FontError(RuntimeError):
    """No usable CJK font: names the path tried and how to install one."""


@dataclass(frozen=True)
class FontSpec:
    """A TrueType font file and, for a collection (``.ttc``), the sub-font to use."""

    path: Path
    subfont_index: int = 0


def locate_cjk_font(configured: Path | None = None, subfont_index: int = 0) -> FontSpec:
    """The CJK font to embed (see the module docstring for the search order).

    Raises
    ------
    FontError
        When a configured path does not exist, or no font is found anywhere.
    """
    if configured is not None:
        if not configured.is_file():
            raise FontError(
                f"FINANCE_ENGINE_REPORT_FONT: {configured} does not exist; {SETUP_HINT}"
            )
        return FontSpec(configured, subfont_index)
    for package, inner in PACKAGED_FONTS:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            candidate = Path(spec.origin).parent / inner
            if candidate.is_file():
                return FontSpec(candidate, 0)
    for candidate in SYSTEM_FONT_PATHS:
        if candidate.is_file():
            return FontSpec(candidate, 0)
    tried = ", ".join(str(p) for p in SYSTEM_FONT_PATHS)
    raise FontError(f"no CJK font found (tried {tried}); {SETUP_HINT}")


@lru_cache(maxsize=8)
def register_font(spec: FontSpec) -> str:
    """Register ``spec`` with ReportLab once per process; return the font name to draw with.

    Parsing a CJK font takes tens of milliseconds, so the registered font is reused by every
    report (ReportLab keeps the subset state per document).

    Raises
    ------
    FontError
        When the file is not a TrueType-outline font ReportLab can embed.
    """
    digest = hashlib.sha256(f"{spec.path.resolve()}#{spec.subfont_index}".encode()).hexdigest()
    name = f"ReportCJK-{digest[:10]}"
    try:
        pdfmetrics.registerFont(TTFont(name, str(spec.path), subfontIndex=spec.subfont_index))
    except (TTFError, OSError) as exc:
        raise FontError(
            f"{spec.path} (sub-font {spec.subfont_index}) cannot be embedded: {exc}; {SETUP_HINT}"
        ) from exc
    return name
