#!/usr/bin/env python3
"""Build Winnow's built-in sample dataset (``public/sample/``).

The sample is a small folder of images (one sub-folder per class) with
*planted* redundancy, so that a newcomer who clicks "try the sample dataset"
immediately sees Winnow find exact copies and near-duplicates, plus a couple
of files that are skipped because they are not decodable images.

Where the pictures come from
----------------------------
Only public-domain / CC0 images are used, and only ones whose licence is
stated *inside* a Debian package (Debian 12 "bookworm"):

* ``python3-skimage`` 0.19.3-8 -- ``skimage/data/*``; licence statements are
  the docstrings in ``skimage/data/_fetchers.py`` of the same package.
* ``python3-scipy`` 1.10.1-2 -- ``scipy/misc/ascent.dat``; licence statement
  is the ``Files: scipy/misc/ascent.dat`` stanza of
  ``/usr/share/doc/python3-scipy/copyright``.

The script downloads those exact package versions with ``apt-get download``
(into a cache directory, ``/tmp/winnow-sample-debs`` by default), unpacks them
with ``dpkg -x``, checks the SHA-256 of every source file against the pinned
value below, and checks that the quoted licence sentence is still present in
the package text.  If anything differs it stops rather than produce a sample
with unverified content.  Nothing else is read: in particular nothing is taken
from any other data directory.

What it writes
--------------
``public/sample/`` is rebuilt from scratch (in a temporary directory that
then replaces the old one):

* ``<class>/<name>.jpg`` -- each source resized to <= 480 px on its long side
  (Lanczos), saved as baseline JPEG quality 90, no metadata;
* planted exact copies (byte-identical, other file name, one of them in
  another class folder) and near-duplicates (50 % resize, JPEG q50
  re-encode, +10 % brightness, horizontal mirror, 95 % centre crop (a slight crop: a 90 % crop is often beyond a global hash), PNG
  re-encode), each derived from the published base JPEG;
* ``everyday/notes.jpg`` (plain text named like an image) and
  ``science/empty.jpg`` (zero bytes), which the app should report as skipped;
* ``index.json`` -- the file list (the browser cannot list a directory over
  HTTP) with sizes, SHA-256, the planted pairs and the skipped files;
* ``LICENSES.md`` -- one entry per source image with its origin and licence.

Determinism
-----------
No randomness is involved (every transform is fixed; there is no RNG and
hence no seed to vary), files are written in a fixed order, and JSON is
written with sorted, stable content.  Byte-for-byte identical output needs
the same encoder libraries: the committed files were produced on Debian 12
with python3-pil 9.4.0 (libjpeg-turbo 2.1.5, zlib 1.2.13).  Another Pillow /
libjpeg build yields equivalent images whose bytes (and hence SHA-256 values
in ``index.json``) may differ; ``index.json`` is always regenerated together
with the images, so it is self-consistent either way.

Usage
-----
    python3 scripts/sample/make_sample.py            # rebuild public/sample/
    python3 scripts/sample/make_sample.py --check    # rebuild into a temp dir
                                                     # and diff against it

Requirements: Python 3.9+, Pillow (Debian: ``apt-get install python3-pil``;
if your default ``python3`` lacks it, run the script with ``/usr/bin/python3``),
and ``apt-get`` + ``dpkg`` with access to a Debian bookworm mirror unless the
two ``.deb`` files are already in the cache directory (``--cache``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

try:
    from PIL import Image, ImageEnhance
    import PIL
except ImportError:  # pragma: no cover - environment message only
    sys.exit(
        "make_sample.py needs Pillow. On Debian/Ubuntu: apt-get install python3-pil "
        "(then run with /usr/bin/python3 if your python3 is another interpreter)."
    )

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "public" / "sample"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "winnow-sample-debs"

MAX_SIDE = 480          # long side of every base image, in pixels
BASE_QUALITY = 90       # JPEG quality of base images and of most derivatives
SIZE_BUDGET = 3 * 1024 * 1024  # whole public/sample/ must stay below this

# --------------------------------------------------------------------------
# Debian packages (pinned) and the source images taken from them
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    source: str  # Debian source package


SKIMAGE = Package("python3-skimage", "0.19.3-8", "skimage")
SCIPY = Package("python3-scipy", "1.10.1-2", "scipy")
PACKAGES = (SKIMAGE, SCIPY)

SK_DATA = "usr/lib/python3/dist-packages/skimage/data"
SK_FETCHERS = f"{SK_DATA}/_fetchers.py"
SCIPY_COPYRIGHT = "usr/share/doc/python3-scipy/copyright"


@dataclass(frozen=True)
class Source:
    key: str            # output base name (without extension)
    cls: str            # class folder
    package: Package
    path: str           # path inside the package (as installed)
    sha256: str         # SHA-256 of that file in the pinned package version
    title: str          # human description
    credit: str         # author / credit as stated in the package
    licence: str        # licence as stated
    evidence_file: str  # package file holding the licence statement
    evidence_scope: str  # python function name / copyright "Files:" value
    evidence: str       # quoted licence sentence (whitespace-normalised)
    upstream: str = ""  # upstream origin named in the package, if any


SOURCES: tuple[Source, ...] = (
    # ---- space -----------------------------------------------------------
    Source("astronaut", "space", SKIMAGE, f"{SK_DATA}/astronaut.png",
           "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
           "Astronaut Eileen Collins (portrait)", "NASA",
           "Public domain", SK_FETCHERS, "astronaut",
           "No known copyright restrictions, released into the public domain.",
           "NASA Great Images database, https://flic.kr/p/r9qvLn"),
    Source("rocket", "space", SKIMAGE, f"{SK_DATA}/rocket.jpg",
           "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c",
           "Falcon 9 launch carrying DSCOVR", "SpaceX",
           "Public domain", SK_FETCHERS, "rocket",
           "The image was captured by SpaceX and `released in the public domain "
           "<http://arstechnica.com/tech-policy/2015/03/elon-musk-puts-spacex-photos-into-the-public-domain/>`_.",
           "SpaceX Photos on Flickr, https://www.flickr.com/photos/spacexphotos/16511594820/"),
    Source("hubble_deep_field", "space", SKIMAGE, f"{SK_DATA}/hubble_deep_field.jpg",
           "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4",
           "Hubble eXtreme Deep Field", "NASA",
           "Public domain", SK_FETCHERS, "hubble_deep_field",
           "The image was captured by NASA and `may be freely used in the public domain "
           "<http://www.nasa.gov/audience/formedia/features/MP_Photo_Guidelines.html>`_.",
           "HubbleSite, http://hubblesite.org/newscenter/archive/releases/2012/37/image/a/"),
    # ---- everyday ----------------------------------------------------------
    Source("camera", "everyday", SKIMAGE, f"{SK_DATA}/camera.png",
           "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
           "Man with a film camera on a tripod (grey-scale)", "Lav Varshney (photographer)",
           "CC0", SK_FETCHERS, "camera",
           "No copyright restrictions. CC0 by the photographer (Lav Varshney)."),
    Source("chelsea", "everyday", SKIMAGE, f"{SK_DATA}/chelsea.png",
           "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
           "Chelsea the cat", "Stefan van der Walt (photographer)",
           "CC0", SK_FETCHERS, "chelsea",
           "No copyright restrictions. CC0 by the photographer (Stefan van der Walt)."),
    Source("coffee", "everyday", SKIMAGE, f"{SK_DATA}/coffee.png",
           "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
           "Coffee cup", "Rachel Michetti (photographer); courtesy of Pikolo Espresso Bar",
           "CC0", SK_FETCHERS, "coffee",
           "No copyright restrictions. CC0 by the photographer (Rachel Michetti)."),
    Source("clock", "everyday", SKIMAGE, f"{SK_DATA}/clock_motion.png",
           "f029226b28b642e80113d86622e9b215ee067a0966feaf5e60604a1e05733955",
           "Motion-blurred wall clock (grey-scale)", "Stefan van der Walt (photographer)",
           "Public domain", SK_FETCHERS, "clock",
           "Released into the public domain by the photographer (Stefan van der Walt)."),
    Source("horse", "everyday", SKIMAGE, f"{SK_DATA}/horse.png",
           "c7fb60789fe394c485f842291ea3b21e50d140f39d6dcb5fb9917cc178225455",
           "Horse silhouette (clip art)", "Andreas Preuss (marauder)",
           "CC0", SK_FETCHERS, "horse",
           "No copyright restrictions. CC0 given by owner (Andreas Preuss (marauder)).",
           "openclipart, http://openclipart.org/detail/158377/horse-by-marauder"),
    Source("handwriting", "everyday", SKIMAGE, f"{SK_DATA}/text.png",
           "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1",
           "Handwritten notes on paper (skimage 'text' image)", "unknown (Wikipedia File:Corner.png)",
           "Public domain", SK_FETCHERS, "text",
           "No known copyright restrictions, released into the public domain.",
           "Wikipedia, https://en.wikipedia.org/wiki/File:Corner.png"),
    Source("stairs", "everyday", SCIPY, "usr/lib/python3/dist-packages/scipy/misc/ascent.dat",
           "e8a84939484463ab8051aedc5b40aa262ab33a91d6458a6cd13c6a1cad5a023d",
           "People climbing an outdoor staircase (SciPy 'ascent' image, grey-scale)",
           "unknown (derived from accent-to-the-top.jpg, public-domain-image.com)",
           "Public domain", SCIPY_COPYRIGHT, "scipy/misc/ascent.dat",
           "Files: scipy/misc/ascent.dat Copyright: public-domain License: public-domain",
           "http://www.public-domain-image.com/people-public-domain-images-pictures/"),
    # ---- science -----------------------------------------------------------
    Source("retina", "science", SKIMAGE, f"{SK_DATA}/retina.jpg",
           "38a07f36f27f095e818aea7b96d34202c05176d30253c66733f2e00379e9e0e6",
           "Fundus photograph of a normal left eye", "Mikael Häggström",
           "CC0 1.0", SK_FETCHERS, "retina",
           "This file is made available under the Creative Commons CC0 1.0 Universal Public Domain Dedication.",
           "Wikimedia Commons, https://commons.wikimedia.org/wiki/File:Fundus_photograph_of_normal_left_eye.jpg"),
    Source("cell", "science", SKIMAGE, f"{SK_DATA}/cell.png",
           "8d23a7fb81f7cc877cd09f330357fc7f595651306e84e17252f6e0a1b3f61515",
           "Quantitative phase image of a cell in saline",
           "Paul Müller, Mirjam Schürmann, Salvatore Girardo, Gheorghe Cojoc, Jochen Guck",
           "CC0", SK_FETCHERS, "cell",
           "This image is CC0, dedicated to the public domain."),
    Source("microaneurysms", "science", SKIMAGE, f"{SK_DATA}/microaneurysms.png",
           "a1e1be59aa447f8ce082f7fa809997ab369a2b137cb6c4202abc647c7ccf6456",
           "Retina detail with microaneurysms (green channel, 102x102)",
           "Andreas Maier (owner); High-Resolution Fundus (HRF) Image Database",
           "CC0", SK_FETCHERS, "microaneurysms",
           "No copyright restrictions. CC0 given by owner (Andreas Maier).",
           "https://www5.cs.fau.de/research/data/fundus-images/"),
    # ---- textures ----------------------------------------------------------
    Source("brick", "textures", SKIMAGE, f"{SK_DATA}/brick.png",
           "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
           "Brick wall (grey-scale, perspective-corrected by scikit-image)", "CC0Textures (Bricks25)",
           "CC0", SK_FETCHERS, "brick",
           "The original image was downloaded from `CC0Textures "
           "<https://cc0textures.com/view.php?tex=Bricks25>`_ and licensed under the "
           "Creative Commons CC0 License.",
           "CC0Textures, https://cc0textures.com/view.php?tex=Bricks25"),
    Source("grass", "textures", SKIMAGE, f"{SK_DATA}/grass.png",
           "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
           "Grass (grey-scale crop)", "linolafett (DeviantArt, 'Grass 01')",
           "CC0", SK_FETCHERS, "grass",
           "The original image was downloaded from `DeviantArt "
           "<https://www.deviantart.com/linolafett/art/Grass-01-434853879>`__ and "
           "licensed under the Creative Commons CC0 License.",
           "DeviantArt, https://www.deviantart.com/linolafett/art/Grass-01-434853879"),
    Source("gravel", "textures", SKIMAGE, f"{SK_DATA}/gravel.png",
           "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
           "Gravel (grey-scale crop)", "CC0Textures (Gravel04)",
           "CC0", SK_FETCHERS, "gravel",
           "The original image was downloaded from `CC0Textures "
           "<https://cc0textures.com/view.php?tex=Gravel04>`__ and licensed under the "
           "Creative Commons CC0 License.",
           "CC0Textures, https://cc0textures.com/view.php?tex=Gravel04"),
)

# --------------------------------------------------------------------------
# Planted redundancy.  (new file, original base key, transform)
# The original is always the published base file "<cls>/<key>.jpg".
# --------------------------------------------------------------------------

EXACT_COPIES = (
    ("everyday/coffee_copy.jpg", "coffee"),
    ("everyday/coffee_backup.jpg", "coffee"),      # 3-way exact group
    ("everyday/eileen_collins.jpg", "astronaut"),  # exact copy in another class
    ("textures/brick_wall_2.jpg", "brick"),
)

NEAR_DUPLICATES = (
    ("everyday/camera_small.jpg", "camera", "resize50"),
    ("space/rocket_compressed.jpg", "rocket", "jpeg_q50"),
    ("everyday/chelsea_bright.jpg", "chelsea", "bright10"),
    ("everyday/stairs_mirrored.jpg", "stairs", "hflip"),
    ("science/retina_crop.jpg", "retina", "crop95"),
    ("everyday/clock.png", "clock", "format_png"),
)

NOTES_TEXT = (
    "These are not image bytes.\n"
    "\n"
    "This file is part of the Winnow sample dataset. It is plain text that has\n"
    "been given a .jpg name on purpose, to show how Winnow reports files it\n"
    "cannot decode as images (they are skipped, not silently dropped).\n"
)

SKIPPED = (
    ("everyday/notes.jpg", NOTES_TEXT.encode("utf-8"), "not an image"),
    ("science/empty.jpg", b"", "empty file"),
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def log(msg: str) -> None:
    print(msg, file=sys.stderr)


def fetch_packages(cache: Path) -> dict[str, Path]:
    """Download (if needed) and unpack each pinned package; return roots."""
    cache.mkdir(parents=True, exist_ok=True)
    roots: dict[str, Path] = {}
    for pkg in PACKAGES:
        pattern = f"{pkg.name}_{pkg.version}_*.deb"
        debs = sorted(cache.glob(pattern))
        if not debs:
            log(f"apt-get download {pkg.name}={pkg.version} -> {cache}")
            subprocess.run(["apt-get", "download", f"{pkg.name}={pkg.version}"],
                           cwd=cache, check=True)
            debs = sorted(cache.glob(pattern))
            if not debs:
                sys.exit(f"download of {pkg.name}={pkg.version} produced no {pattern}")
        deb = debs[0]
        root = cache / f"root-{pkg.name}-{pkg.version}"
        if not root.is_dir():
            tmp = Path(tempfile.mkdtemp(prefix="x-", dir=cache))
            subprocess.run(["dpkg", "-x", str(deb), str(tmp)], check=True)
            tmp.rename(root)
        roots[pkg.name] = root
        log(f"using {deb.name} (sha256 {sha256_bytes(deb.read_bytes())[:16]}...)")
    return roots


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def evidence_scope_text(src: Source, root: Path) -> str:
    """Return the part of the evidence file that belongs to this image."""
    text = (root / src.evidence_file).read_text(encoding="utf-8")
    if src.evidence_file.endswith(".py"):
        m = re.search(rf"^def {re.escape(src.evidence_scope)}\(.*?(?=^def |\Z)",
                      text, flags=re.S | re.M)
    else:  # Debian machine-readable copyright: the stanza for these Files
        m = re.search(rf"^Files: {re.escape(src.evidence_scope)}\n.*?(?=\n\n|\Z)",
                      text, flags=re.S | re.M)
    if not m:
        sys.exit(f"{src.key}: scope {src.evidence_scope!r} not found in {src.evidence_file}")
    return m.group(0)


def verify_source(src: Source, root: Path) -> bytes:
    data = (root / src.path).read_bytes()
    got = sha256_bytes(data)
    if got != src.sha256:
        sys.exit(f"{src.key}: {src.path} has sha256 {got}, expected {src.sha256}")
    if _norm(src.evidence) not in _norm(evidence_scope_text(src, root)):
        sys.exit(f"{src.key}: licence statement not found in {src.evidence_file} "
                 f"({src.evidence_scope}): {src.evidence!r}")
    return data


class _NoGlobalsUnpickler(pickle.Unpickler):
    """ascent.dat is a pickled list of lists of ints; refuse anything else."""

    def find_class(self, module, name):  # noqa: D401
        raise pickle.UnpicklingError(f"refusing global {module}.{name}")


def load_source_image(src: Source, data: bytes) -> Image.Image:
    if src.path.endswith(".dat"):
        rows = _NoGlobalsUnpickler(io.BytesIO(data)).load()
        h, w = len(rows), len(rows[0])
        im = Image.new("L", (w, h))
        im.putdata([int(v) for row in rows for v in row])
        return im
    im = Image.open(io.BytesIO(data))
    im.load()
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, rgba).convert("RGB")  # flatten on white
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    if im.mode == "RGB" and _is_grey(im):
        im = im.convert("L")
    return im


def _is_grey(im: Image.Image) -> bool:
    r, g, b = im.split()
    return r.tobytes() == g.tobytes() == b.tobytes()


def resize_long_side(im: Image.Image, max_side: int) -> Image.Image:
    w, h = im.size
    if max(w, h) <= max_side:
        return im.copy()
    scale = max_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return im.resize(size, Image.Resampling.LANCZOS)


def encode_jpeg(im: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality, optimize=False,
            progressive=False, subsampling="4:2:0")
    return buf.getvalue()


def encode_png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def apply_transform(base_jpeg: bytes, transform: str) -> bytes:
    im = decode(base_jpeg)
    w, h = im.size
    if transform == "resize50":
        return encode_jpeg(im.resize((w // 2, h // 2), Image.Resampling.LANCZOS), BASE_QUALITY)
    if transform == "jpeg_q50":
        return encode_jpeg(im, 50)
    if transform == "bright10":
        return encode_jpeg(ImageEnhance.Brightness(im).enhance(1.10), BASE_QUALITY)
    if transform == "hflip":
        return encode_jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), BASE_QUALITY)
    if transform == "crop95":
        cw, ch = round(w * 0.95), round(h * 0.95)
        left, top = (w - cw) // 2, (h - ch) // 2
        return encode_jpeg(im.crop((left, top, left + cw, top + ch)), BASE_QUALITY)
    if transform == "format_png":
        return encode_png(im)  # same decoded pixels, different container
    raise ValueError(f"unknown transform {transform}")


# --------------------------------------------------------------------------
# Licence file
# --------------------------------------------------------------------------


def licenses_md(files: dict[str, bytes]) -> str:
    by_key = {s.key: s for s in SOURCES}
    derived: dict[str, list[str]] = {s.key: [f"{s.cls}/{s.key}.jpg"] for s in SOURCES}
    for path, key in EXACT_COPIES:
        derived[key].append(path)
    for path, key, _t in NEAR_DUPLICATES:
        derived[key].append(path)

    out = [
        "# Licences of the Winnow sample dataset",
        "",
        "Every image in `public/sample/` is derived from one of the source images",
        "below. Each source is **public domain or CC0**, as stated in the Debian",
        "package it was taken from (Debian 12 \"bookworm\"); the quoted sentence is",
        "the licence statement found in that package. The derived files were made",
        "by `scripts/sample/make_sample.py` (resize to <= 480 px, JPEG re-encode and",
        "the transforms listed in `index.json`); no other material is included.",
        "",
        "`everyday/notes.jpg` (a short plain-text note written for this project)",
        "and `science/empty.jpg` (zero bytes) are deliberately not images and",
        "contain no third-party material.",
        "",
        "Packages used:",
        "",
    ]
    for pkg in PACKAGES:
        out.append(f"- `{pkg.name}` version `{pkg.version}` (Debian source package "
                   f"`{pkg.source}`), https://packages.debian.org/bookworm/{pkg.name}")
    out += [
        "",
        "Note: the Debian `copyright` file of `python3-skimage` states the package",
        "as a whole (`Files: *`) under BSD-3-Clause and does not list the data",
        "images separately; the per-image licence statements used here are the",
        "upstream scikit-image docstrings shipped in the same package",
        f"(`/{SK_FETCHERS}`).",
        "",
    ]
    for s in SOURCES:
        out += [
            f"## {s.cls}/{s.key}.jpg — {s.title}",
            "",
            f"- Source package: `{s.package.name}` `{s.package.version}`",
            f"- Path in package: `/{s.path}` (sha256 `{s.sha256}`)",
            f"- Author / credit: {s.credit}",
        ]
        if s.upstream:
            out.append(f"- Upstream origin (as named in the package): {s.upstream}")
        out += [
            f"- Licence: **{s.licence}**",
            f"- Licence statement (`/{s.evidence_file}`, `{s.evidence_scope}`):",
            f"  > {s.evidence.replace('`', chr(92) + '`')}",
            f"- Files in this sample derived from it: "
            + ", ".join(f"`{p}`" for p in derived[s.key]),
            "",
        ]
    assert set(by_key) == set(derived)
    return "\n".join(out)


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def build(cache: Path) -> tuple[dict[str, bytes], dict]:
    roots = fetch_packages(cache)
    files: dict[str, bytes] = {}
    base: dict[str, str] = {}

    for src in SOURCES:
        data = verify_source(src, roots[src.package.name])
        im = resize_long_side(load_source_image(src, data), MAX_SIDE)
        path = f"{src.cls}/{src.key}.jpg"
        files[path] = encode_jpeg(im, BASE_QUALITY)
        base[src.key] = path

    planted = []
    for path, key in EXACT_COPIES:
        files[path] = files[base[key]]
        planted.append({"path": path, "duplicateOf": base[key],
                        "transform": "exact_copy", "kind": "exact"})
    for path, key, transform in NEAR_DUPLICATES:
        files[path] = apply_transform(files[base[key]], transform)
        planted.append({"path": path, "duplicateOf": base[key],
                        "transform": transform, "kind": "near"})

    skipped = []
    for path, data, why in SKIPPED:
        files[path] = data
        skipped.append({"path": path, "why": why})

    if len(files) != len(SOURCES) + len(EXACT_COPIES) + len(NEAR_DUPLICATES) + len(SKIPPED):
        sys.exit("internal error: two outputs share a path")

    index = {
        "name": "Winnow sample",
        "files": [{"path": p, "size": len(files[p]), "sha256": sha256_bytes(files[p])}
                  for p in sorted(files)],
        "planted": planted,
        "skipped": skipped,
    }
    files["index.json"] = (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode()
    files["LICENSES.md"] = licenses_md(files).encode("utf-8")
    return files, index


def write_tree(files: dict[str, bytes], dest: Path) -> None:
    for rel in sorted(files):
        p = dest / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(files[rel])


def self_check(files: dict[str, bytes], index: dict) -> None:
    total = sum(len(b) for b in files.values())
    if total > SIZE_BUDGET:
        sys.exit(f"sample is {total} bytes, over the {SIZE_BUDGET} byte budget")
    entries = {f["path"]: f for f in index["files"]}
    for pl in index["planted"]:
        a, b = entries[pl["path"]]["sha256"], entries[pl["duplicateOf"]]["sha256"]
        if (pl["kind"] == "exact") != (a == b):
            sys.exit(f"planted pair {pl} has wrong byte equality")
    for rel, data in files.items():
        if rel.endswith((".jpg", ".png")) and rel not in {s["path"] for s in index["skipped"]}:
            im = decode(data)
            if max(im.size) > MAX_SIDE:
                sys.exit(f"{rel} is {im.size}, larger than {MAX_SIDE}px")
    log(f"{len(index['files'])} files listed, {len(index['planted'])} planted, "
        f"{len(index['skipped'])} skipped, {total} bytes in total")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output directory (default: {DEFAULT_OUT.relative_to(REPO_ROOT)})")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help=f"where .deb files are downloaded and unpacked (default: {DEFAULT_CACHE})")
    ap.add_argument("--check", action="store_true",
                    help="do not write; rebuild and compare with the existing output")
    args = ap.parse_args()

    log(f"Pillow {PIL.__version__}")
    files, index = build(args.cache)
    self_check(files, index)
    out: Path = args.out.resolve()

    if args.check:
        existing = {str(p.relative_to(out)).replace(os.sep, "/"): p.read_bytes()
                    for p in out.rglob("*") if p.is_file()} if out.is_dir() else {}
        diff = sorted(set(existing) ^ set(files)) + sorted(
            k for k in set(existing) & set(files) if existing[k] != files[k])
        if diff:
            log("differs from the committed sample: " + ", ".join(diff))
            sys.exit(1)
        log(f"{out} is up to date")
        return

    # Refuse to wipe a directory that does not look like a previous sample.
    if out.exists() and any(out.iterdir()) and not (out / "index.json").exists():
        sys.exit(f"{out} is not empty and has no index.json; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=out.parent))
    try:
        write_tree(files, tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    os.chmod(out, 0o755)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
