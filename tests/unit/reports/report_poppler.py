"""Thin wrappers over poppler-utils for the report tests (pdffonts, pdftotext, pdftoppm...)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from report_helpers import need_tool


def run(tool: str, *args: str) -> str:
    """Run a poppler command and return its standard output (text)."""
    done = subprocess.run(
        [need_tool(tool), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{tool} failed: {done.stderr}"
    return done.stdout


def fonts(pdf: Path) -> list[dict[str, str]]:
    """``pdffonts`` rows: name, type, emb, sub, uni."""
    lines = run("pdffonts", str(pdf)).splitlines()[2:]
    rows = []
    for line in lines:
        parts = line.split()
        # name type... encoding emb sub uni num gen: the flags are the 5th..3rd from the end
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def text(pdf: Path, page: int | None = None) -> str:
    """``pdftotext`` of the whole document or one page (1-based)."""
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return run("pdftotext", "-enc", "UTF-8", *pages, str(pdf), "-")


def pages(pdf: Path, out: Path, dpi: int = 40) -> list[Image.Image]:
    """Every page rendered to RGB images with ``pdftoppm``."""
    run("pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out / "page"))
    return [Image.open(p).convert("RGB") for p in sorted(out.glob("page-*.png"))]


def pixels_near(image: Image.Image, hex_colour: str, tolerance: int = 12) -> int:
    """How many pixels are within ``tolerance`` of a colour on every channel."""
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    rgb = np.asarray(image, dtype=np.int16)
    return int((np.abs(rgb - target) <= tolerance).all(axis=-1).sum())
