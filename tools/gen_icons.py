"""Render the toolset icons: each shape of `lanying_mcp/core/icons.py` (SHAPES) becomes a 16×16 lossless WebP.

    python tools/gen_icons.py     # rewrites the _WEBP table and SHAPES_DIGEST in lanying_mcp/core/icons.py

Run it after changing a shape or the colour. It needs Pillow (`pip install pillow`), which the server
itself does not: the rendered icons are committed, and a test fails when SHAPES changed without a render.
"""

from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.core import icons  # noqa: E402

SIZE = 16  # pixels; the shapes are drawn on an 8×8 grid, so each grid square is 2×2 pixels
OVERSAMPLE = 8  # drawn this many times larger, then reduced: a pixel is on when half of it is covered


def polygons(path: str) -> list[list[tuple[float, float]]]:
    """The closed polygons of an SVG path that uses only M, L, H, V (absolute or relative) and Z."""
    shapes: list[list[tuple[float, float]]] = []
    x = y = 0.0
    for cmd, args in re.findall(r"([MmLlHhVvZz])([^MmLlHhVvZz]*)", path):
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if cmd in "Mm":
            x, y = (nums[0], nums[1]) if cmd == "M" else (x + nums[0], y + nums[1])
            shapes.append([(x, y)])
            nums, cmd = nums[2:], "L" if cmd == "M" else "l"
        if cmd in "Ll":
            for i in range(0, len(nums), 2):
                x, y = (nums[i], nums[i + 1]) if cmd == "L" else (x + nums[i], y + nums[i + 1])
                shapes[-1].append((x, y))
        elif cmd in "Hh":
            for n in nums:
                x = n if cmd == "H" else x + n
                shapes[-1].append((x, y))
        elif cmd in "Vv":
            for n in nums:
                y = n if cmd == "V" else y + n
                shapes[-1].append((x, y))
    return shapes


def render(path: str) -> bytes:
    from PIL import Image, ImageColor, ImageDraw

    scale = SIZE / 8 * OVERSAMPLE
    big = Image.new("L", (SIZE * OVERSAMPLE,) * 2, 0)
    draw = ImageDraw.Draw(big)
    for poly in polygons(path):
        draw.polygon([(px * scale, py * scale) for px, py in poly], fill=255)
    mask = big.resize((SIZE, SIZE), Image.Resampling.BOX).point(lambda v: 255 if v >= 128 else 0)
    rgb = ImageColor.getrgb(icons.COLOUR)[:3]
    image = Image.new("RGBA", (SIZE, SIZE), (*rgb, 0))
    image.paste(Image.new("RGBA", (SIZE, SIZE), (*rgb, 255)), (0, 0), mask)
    out = io.BytesIO()
    image.save(out, "WEBP", lossless=True, quality=100, method=6)
    return out.getvalue()


def main() -> int:
    table = "\n".join(
        f'    "{name}": "{base64.b64encode(render(path)).decode("ascii")}",' for name, path in icons.SHAPES.items()
    )
    file = ROOT / "lanying_mcp" / "icons.py"
    text = file.read_text(encoding="utf-8")
    text, n = re.subn(r"(_WEBP: dict\[str, str\] = \{\n).*?(\n\})", lambda m: m[1] + table + m[2], text, flags=re.S)
    text, m = re.subn(r'SHAPES_DIGEST = "[0-9a-f]*"', f'SHAPES_DIGEST = "{icons.shapes_digest()}"', text)
    if n != 1 or m != 1:
        print("lanying_mcp/core/icons.py: the _WEBP table or SHAPES_DIGEST was not found", file=sys.stderr)
        return 1
    file.write_text(text, encoding="utf-8")
    print(f"rendered {len(icons.SHAPES)} icons into lanying_mcp/core/icons.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
