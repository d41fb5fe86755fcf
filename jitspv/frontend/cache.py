"""On-disk cache of compiled kernels, shared between processes.

One directory per key under `$JITSPV_CACHE_DIR` (default `~/.cache/jitspv`):
`<key>/kernel.spv`, `kernel.json` (LoweredKernel.to_json), `kernel.ttir`, and `manifest.json`
with the name, the key, the key's ingredients and a sha256 of each file. An entry is written
complete into a temporary directory and renamed into place, so readers see a whole entry or none;
when two processes race, the first rename wins and the loser's copy is dropped. An entry whose
files are missing, truncated, do not match the manifest, or whose manifest names another key, is
treated as absent and rewritten.

The cache holds code the process runs, so it is used only when its root is a directory of this
user's that nobody else can write (created 0700); otherwise, and when a write fails, the process
warns once and goes on compiling in memory. Cache trouble never fails a launch.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

_FILES = ("kernel.spv", "kernel.json", "kernel.ttir")
_ENTRY_FILES = frozenset(_FILES + ("manifest.json",))
_KEY = re.compile(r"[0-9a-f]{64}")
# What else jitspv writes in the root: the Vulkan pipeline cache (vk/pipeline.py) and the
# temporaries of writers in flight (entries, entries moved aside, pipeline caches).
_PIPELINE_CACHE = re.compile(r"vkpipelines-[0-9a-f]+-[0-9a-f]+\.bin")
_TEMPORARY = re.compile(r"\.(tmp|trash)-[0-9a-f]{16}-\w+|\.vkpipelines-\w+")
# `clear` leaves temporaries younger than this alone: another process is still writing them
# (a writer needs milliseconds; minutes cover a stalled one).
TEMPORARY_GRACE_SECONDS = 600


class CacheWarning(UserWarning):
    """The disk cache cannot be used or written; kernels still compile and run."""


def cache_dir() -> Path:
    d = os.environ.get("JITSPV_CACHE_DIR")
    return Path(d) if d else Path.home() / ".cache" / "jitspv"


def untrusted_reason(root: Path) -> str | None:
    """Why `root` must not be used as a cache (None when it may): it must be a directory owned by
    this user and writable by nobody else, as ssh and pip require of their files."""
    try:
        st = os.stat(root)
    except OSError as e:
        return f"{root} cannot be examined ({e.strerror or e})"
    if not stat.S_ISDIR(st.st_mode):
        return f"{root} is not a directory"
    uid = os.getuid()
    if st.st_uid != uid:
        return (f"{root} is owned by uid {st.st_uid}, not by this user (uid {uid}), so its owner could plant "
                f"kernels this process would run; set JITSPV_CACHE_DIR to a directory of your own")
    writers = " and ".join(who for bit, who in ((stat.S_IWGRP, "its group"), (stat.S_IWOTH, "others"))
                           if st.st_mode & bit)
    if writers:
        return (f"{root} is writable by {writers} (mode {stat.S_IMODE(st.st_mode):04o}), who could plant "
                f"kernels this process would run; fix it with `chmod go-w {root}`")
    return None


_warned = set()   # directories this process has warned about


def warn_once(root: Path, reason: str) -> None:
    if str(root) not in _warned:
        _warned.add(str(root))
        warnings.warn(f"jitspv: not using the disk cache in {root}: {reason}; compiled kernels stay in "
                      f"memory for this process only", CacheWarning, stacklevel=3)


def trusted_root(create: bool) -> Path | None:
    """The cache root when it may be used, else None (after one warning saying why). `create`
    makes a missing root (0700); without it a missing root is None, silently."""
    root = cache_dir()
    if create:
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            warn_once(root, f"it cannot be created ({e.strerror or e})")
            return None
    elif not root.exists():
        return None
    reason = untrusted_reason(root)
    if reason:
        warn_once(root, reason)
        return None
    return root


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
    """The entry for `key`, or None when absent, damaged or not this key's (never raises for a bad entry)."""
    root = trusted_root(create=False)
    return None if root is None else _read_entry(root / key, key)


def _read_entry(d: Path, key: str) -> CacheEntry | None:
    try:
        manifest = json.loads((d / "manifest.json").read_text())
        # An entry copied or renamed under another key holds another kernel: its manifest's key,
        # and the hash of the ingredients it records, must both be the key it was found under.
        if manifest["key"] != key or hash_key(manifest["ingredients"]) != key:
            return None
        blobs = {name: (d / name).read_bytes() for name in _FILES}
        for name, data in blobs.items():
            if hashlib.sha256(data).hexdigest() != manifest["sha256"][name]:
                return None
        return CacheEntry(blobs["kernel.spv"], blobs["kernel.json"].decode(), blobs["kernel.ttir"].decode(),
                          manifest)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def store(ingredients, spirv: bytes, lowered_json: str, ttir: str, name: str = "") -> str:
    """Write the entry for `ingredients` atomically and return its key; replaces a damaged entry,
    leaves a good concurrent one alone. A failed write is a warning, never an error."""
    key = hash_key(ingredients)
    root = trusted_root(create=True)
    if root is None:
        return key
    try:
        _write_entry(root, key, ingredients, spirv, lowered_json, ttir, name)
    except OSError as e:   # read-only file system, full disk, the root removed meanwhile
        warn_once(root, f"writing an entry failed ({e.strerror or e})")
    return key


def _write_entry(root: Path, key: str, ingredients, spirv, lowered_json, ttir, name):
    blobs = {"kernel.spv": spirv, "kernel.json": lowered_json.encode(), "kernel.ttir": ttir.encode()}
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-", dir=root))
    try:
        for file_name, data in blobs.items():
            (tmp / file_name).write_bytes(data)
        manifest = {"name": name, "key": key, "ingredients": ingredients,
                    "sha256": {n: hashlib.sha256(b).hexdigest() for n, b in blobs.items()}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, default=repr))
        final = root / key
        if final.exists() and _read_entry(final, key) is None:
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
    """Manifests of the entries in the root (damaged ones listed with "damaged": True)."""
    root = cache_dir()
    out = []
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        if not _KEY.fullmatch(d.name) or not d.is_dir():
            continue
        entry = _read_entry(d, d.name)
        if entry is None:
            out.append({"key": d.name, "damaged": True, "bytes": _size(d)})
        else:
            out.append(dict(entry.manifest, bytes=_size(d)))
    return out


def clear() -> int:
    """Remove jitspv's own entries, pipeline caches and stale temporaries; returns how many entries
    were removed. Only files with the names jitspv writes, in directories named as jitspv names
    them, are removed: anything else in the root stays, and so do temporaries younger than
    TEMPORARY_GRACE_SECONDS (another process is writing them)."""
    root = cache_dir()
    if not root.is_dir():
        return 0
    removed = 0
    stale = time.time() - TEMPORARY_GRACE_SECONDS
    for path in root.iterdir():
        if _KEY.fullmatch(path.name):
            removed += _remove_entry(path)
        elif _PIPELINE_CACHE.fullmatch(path.name) and path.is_file():
            path.unlink(missing_ok=True)
        elif _TEMPORARY.fullmatch(path.name) and _mtime(path) < stale:
            if path.is_dir():
                _remove_entry(path / "entry")   # a .trash- directory holds the entry moved aside
                _remove_entry(path)
            else:
                path.unlink(missing_ok=True)
    return removed


def _remove_entry(d: Path) -> bool:
    """Deletes jitspv's files in directory `d`, then `d` if that emptied it; True when it did."""
    try:
        for f in d.iterdir():
            if f.name in _ENTRY_FILES and f.is_file():
                f.unlink(missing_ok=True)
        d.rmdir()
        return True
    except OSError:   # not a directory, gone meanwhile, or holding files jitspv did not write
        return False


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return float("inf")


def _size(d: Path) -> int:
    return sum(f.stat().st_size for f in d.iterdir() if f.is_file())


def cli(args: list[str]) -> int:
    """`python -m jitspv cache list|clear`."""
    root = cache_dir()
    reason = untrusted_reason(root) if root.exists() else None
    if reason:
        print(f"jitspv does not use this cache: {reason}")
        return 1
    if args == ["list"]:
        found = entries()
        for e in found:
            state = "damaged" if e.get("damaged") else e.get("name", "?")
            print(f"{e['key'][:16]}  {e['bytes']:>9}  {state}  {e.get('ingredients', {}).get('signature', '')}")
        print(f"{len(found)} entries in {root}")
        return 0
    if args == ["clear"]:
        print(f"removed {clear()} entries from {root}")
        return 0
    raise ValueError(f"unknown cache action {args}")
