"""On-disk cache: atomic entries, damaged entries treated as absent, racing writers."""
import multiprocessing as mp
import os

import numpy as np
import pytest

from jitspv.frontend import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JITSPV_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _blob(n=None):
    rng = np.random.default_rng()
    return rng.integers(0, 256, int(n or rng.integers(100, 5000)), dtype=np.uint8).tobytes()


def test_store_load_roundtrip(cache_dir):
    key = cache.hash_key(["k", 1, {"a": 2}])
    assert cache.load(key) is None
    spv = _blob()
    cache.store(key, spv, '{"x": 1}', "module {}", {"name": "kern"})
    entry = cache.load(key)
    assert entry.spirv == spv and entry.lowered_json == '{"x": 1}' and entry.ttir == "module {}"
    assert entry.manifest["name"] == "kern"
    assert [e["key"] for e in cache.entries()] == [key]
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".")], "temporaries left behind"


def test_key_depends_on_every_ingredient():
    base = {"source": "abc", "signature": {"x": "*fp32"}, "options": {"num_warps": 4}, "target": "t"}
    keys = {cache.hash_key(base)}
    for field, other in [("source", "abd"), ("signature", {"x": "*fp16"}), ("options", {"num_warps": 8}),
                         ("target", "u")]:
        keys.add(cache.hash_key(dict(base, **{field: other})))
    assert len(keys) == 5
    assert cache.hash_key(dict(reversed(list(base.items())))) == cache.hash_key(base)


@pytest.mark.parametrize("damage", ["truncate_spv", "flip_byte", "delete_json", "garbage_manifest"])
def test_damaged_entry_is_absent_then_rewritten(cache_dir, damage):
    key = cache.hash_key([damage])
    spv = _blob()
    cache.store(key, spv, "{}", "ttir", {})
    d = cache_dir / key
    if damage == "truncate_spv":
        (d / "kernel.spv").write_bytes(spv[: len(spv) // 2])
    elif damage == "flip_byte":
        raw = bytearray(spv)
        raw[len(raw) // 3] ^= 0xFF
        (d / "kernel.spv").write_bytes(bytes(raw))
    elif damage == "delete_json":
        os.unlink(d / "kernel.json")
    else:
        (d / "manifest.json").write_text("{not json")
    assert cache.load(key) is None
    assert cache.entries()[0]["damaged"] is True
    cache.store(key, spv, "{}", "ttir", {})
    assert cache.load(key).spirv == spv


def _writer(args):
    cache_dir, key, spv, rounds = args
    os.environ["JITSPV_CACHE_DIR"] = cache_dir
    seen_bad = 0
    for _ in range(rounds):
        cache.store(key, spv, "{}", "ttir", {})
        entry = cache.load(key)
        seen_bad += entry is None or entry.spirv != spv
    return seen_bad


def test_racing_writers(cache_dir):
    key = cache.hash_key(["race"])
    spv = _blob(200_000)
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        bad = pool.map(_writer, [(str(cache_dir), key, spv, 30)] * 4)
    assert bad == [0, 0, 0, 0]
    assert cache.load(key).spirv == spv
    assert [p.name for p in cache_dir.iterdir()] == [key]


def test_clear(cache_dir):
    for i in range(3):
        cache.store(cache.hash_key([i]), _blob(), "{}", "t", {})
    assert len(cache.entries()) == 3
    assert cache.clear() == 3
    assert cache.entries() == []
