"""On-disk cache of compiled kernels, shared between processes.

One directory per key under `$JITSPV_CACHE_DIR` (default `~/.cache/jitspv`):
`<key>/kernel.spv`, `kernel.json` (LoweredKernel.to_json), `kernel.ttir`, and `manifest.json`
with the name, the key's ingredients and a sha256 of each file. An entry is written complete
into a temporary directory and renamed into place, so readers see a whole entry or none; when
two processes race, the first rename wins and the loser's copy is dropped. An entry whose files
are missing, truncated or do not match the manifest is treated as absent and rewritten.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_FILES = ("kernel.spv", "kernel.json", "kernel.ttir")


def cache_dir() -> Path:
    d = os.environ.get("JITSPV_CACHE_DIR")
    return Path(d) if d else Path.home() / ".cache" / "jitspv"


def hash_key(parts) -> str:
    """Hex sha256 of the JSON form of `parts` (the key's ingredients)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


@dataclass
class CacheEntry:
    spirv: bytes
    lowered_json: str
    ttir: str
    manifest: dict


def load(key: str) -> CacheEntry | None:
    """The entry for `key`, or None when absent or damaged (never raises for a bad entry)."""
    d = cache_dir() / key
    try:
        manifest = json.loads((d / "manifest.json").read_text())
        blobs = {name: (d / name).read_bytes() for name in _FILES}
        for name, data in blobs.items():
            if hashlib.sha256(data).hexdigest() != manifest["sha256"][name]:
                return None
        return CacheEntry(blobs["kernel.spv"], blobs["kernel.json"].decode(), blobs["kernel.ttir"].decode(),
                          manifest)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def store(key: str, spirv: bytes, lowered_json: str, ttir: str, info: dict) -> None:
    """Write an entry atomically; replaces a damaged entry, leaves a good concurrent one alone."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    blobs = {"kernel.spv": spirv, "kernel.json": lowered_json.encode(), "kernel.ttir": ttir.encode()}
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-", dir=root))
    try:
        for name, data in blobs.items():
            (tmp / name).write_bytes(data)
        manifest = dict(info, key=key, sha256={n: hashlib.sha256(b).hexdigest() for n, b in blobs.items()})
        (tmp / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, default=repr))
        final = root / key
        if final.exists() and load(key) is None:
            # Damaged: move it aside atomically first, so a reader never sees half of two entries.
            trash = Path(tempfile.mkdtemp(prefix=f".trash-{key[:16]}-", dir=root))
            try:
                os.replace(final, trash / "entry")
            except OSError:
                pass
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            pass   # another process stored this key first; its entry is as good as ours
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def entries() -> list[dict]:
    """Manifests of the complete entries (damaged ones listed with "damaged": True)."""
    root = cache_dir()
    out = []
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        if d.name.startswith(".") or not d.is_dir():
            continue
        entry = load(d.name)
        if entry is None:
            out.append({"key": d.name, "damaged": True, "bytes": _size(d)})
        else:
            out.append(dict(entry.manifest, bytes=_size(d)))
    return out


def clear() -> int:
    """Remove every entry, leftover temporaries and other files; returns how many entries were removed."""
    root = cache_dir()
    if not root.is_dir():
        return 0
    n = 0
    for d in root.iterdir():
        if d.is_dir():
            n += not d.name.startswith(".")
            shutil.rmtree(d, ignore_errors=True)
        else:   # the runtime's Vulkan pipeline cache lives here too
            d.unlink(missing_ok=True)
    return n


def _size(d: Path) -> int:
    return sum(f.stat().st_size for f in d.iterdir() if f.is_file())


def cli(args: list[str]) -> int:
    """`python -m jitspv cache list|clear`."""
    if args == ["list"]:
        found = entries()
        for e in found:
            state = "damaged" if e.get("damaged") else e.get("name", "?")
            print(f"{e['key'][:16]}  {e['bytes']:>9}  {state}  {e.get('signature', '')}")
        print(f"{len(found)} entries in {cache_dir()}")
        return 0
    if args == ["clear"]:
        print(f"removed {clear()} entries from {cache_dir()}")
        return 0
    raise ValueError(f"unknown cache action {args}")
