"""Generated stand-ins for testers' phone photos of shop fronts (Pillow), for the
near-duplicate tests and bench/fingerprint_bench.py.

Origin: imitates what a tester hands in — a phone photo (800×600 JPEG) of a street of shop
fronts with signs, windows, a pavement and passers-by. A *street* is the scene; a *photo* is
one shot of it (where the camera stood, how far it zoomed, the light), so that two photos of
the same shop front differ as two real shots do, and a photo resaved smaller is the same shot.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance


def street(seed: int, width: int = 1600, height: int = 1200) -> Image.Image:
    """A street of shop fronts, the same for the same seed."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (width, height), tuple(rnd.randint(90, 200) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    kerb = int(height * 0.75)
    draw.rectangle([0, kerb, width, height], fill=tuple(rnd.randint(60, 120) for _ in range(3)))
    x = 0
    while x < width:
        w, top = rnd.randint(250, 500), rnd.randint(50, 300)
        draw.rectangle([x, top, x + w, kerb], fill=tuple(rnd.randint(40, 240) for _ in range(3)))
        for _ in range(rnd.randint(2, 6)):  # windows and a door
            wx, wy = rnd.randint(x, x + w - 60), rnd.randint(top, int(height * 0.6))
            draw.rectangle([wx, wy, wx + rnd.randint(40, 120), wy + rnd.randint(40, 150)],
                           fill=tuple(rnd.randint(0, 255) for _ in range(3)))
        draw.rectangle([x + 20, top + 10, x + w - 20, top + 60], fill=tuple(rnd.randint(0, 255) for _ in range(3)))
        x += w
    for _ in range(rnd.randint(0, 8)):  # passers-by
        cx, cy = rnd.randint(0, width), rnd.randint(int(height * 0.5), height)
        draw.ellipse([cx, cy, cx + rnd.randint(30, 120), cy + rnd.randint(60, 250)],
                     fill=tuple(rnd.randint(0, 255) for _ in range(3)))
    return img


def shot(scene: Image.Image, *, dx: int = 0, dy: int = 0, zoom: float = 1.0, light: float = 1.0,
         size: tuple[int, int] = (800, 600)) -> Image.Image:
    """One photo of the scene: the camera moved by (dx, dy) pixels of the scene, zoomed, lit."""
    w, h = int(scene.width * 0.6 / zoom), int(scene.height * 0.6 / zoom)
    cx, cy = scene.width // 2 + dx, scene.height // 2 + dy
    img = scene.crop((cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2)).resize(size)
    return ImageEnhance.Brightness(img).enhance(light)


def resaved(img: Image.Image, *, quality: int, scale: float = 1.0) -> Image.Image:
    """The photo as a messenger passes it on: recompressed at ``quality`` and scaled."""
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    out = Image.open(buffer)
    return out.resize((int(out.width * scale), int(out.height * scale))) if scale != 1.0 else out


def cropped(img: Image.Image, share: float) -> Image.Image:
    """The photo with ``share`` of its width and height cut from each side."""
    dx, dy = int(img.width * share), int(img.height * share)
    return img.crop((dx, dy, img.width - dx, img.height - dy))


def save(img: Image.Image, path: Path, quality: int = 90) -> Path:
    img.convert("RGB").save(path, "JPEG", quality=quality)
    return path
