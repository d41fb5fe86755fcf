"""On-disk cache: atomic entries, damaged or foreign entries treated as absent, racing writers, `clear`
that removes only its own files, write failures as warnings, and a root that must be private."""
import json
import multiprocessing as mp
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv
from jitspv.frontend import cache
from jitspv.vk.device import get_device

rng = np.random.default_rng()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JITSPV_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _blob(n=None):
    rng = np.random.default_rng()
    return rng.integers(0, 256, int(n or rng.integers(100, 5000)), dtype=np.uint8).tobytes()


def test_store_load_roundtrip(cache_dir):
    ingredients = ["k", 1, {"a": 2}]
    key = cache.hash_key(ingredients)
    assert cache.load(key) is None
    spv = _blob()
    assert cache.store(ingredients, spv, '{"x": 1}', "module {}", name="kern") == key
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
    cache.store([damage], spv, "{}", "ttir")
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
    cache.store([damage], spv, "{}", "ttir")
    assert cache.load(key).spirv == spv


def _writer(args):
    cache_dir, key, spv, rounds = args
    os.environ["JITSPV_CACHE_DIR"] = cache_dir
    seen_bad = 0
    for _ in range(rounds):
        cache.store(["race"], spv, "{}", "ttir")
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
        cache.store([i], _blob(), "{}", "t")
    assert len(cache.entries()) == 3
    assert cache.clear() == 3
    assert cache.entries() == []


# -- end to end: what a launch does with entries it must not trust, and with a cache it cannot write --

@jitspv.jit
def scale_by(x_ptr, out_ptr, n, SCALE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * SCALE, mask=mask)


def _launch_scale(scale, n=None):
    """Launches scale_by with a fresh input and a poisoned output; returns (compiled, x, out)."""
    n = n or int(rng.integers(100, 2000)) | 1
    x = rng.standard_normal(n).astype(np.float32)
    out = np.full(n, np.nan, np.float32)
    k = scale_by[(triton.cdiv(n, 64),)](x, out, n, SCALE=scale, BLOCK=64)
    return k, x, out


def _plant(cache_dir, victim, payload):
    """Writes `payload`'s compiled kernel as a well-formed entry under `victim`'s key: the attack a
    writer of the cache directory can make."""
    ingredients = cache.load(victim.key).manifest["ingredients"]
    shutil.rmtree(cache_dir / victim.key)
    cache.store(ingredients, payload.lowered.spirv, payload.lowered.to_json(), payload.asm["ttir"])


@pytest.mark.parametrize("forgery", ["copied", "manifest_key_edited"])
def test_entry_under_another_key_is_recompiled(cache_dir, forgery):
    scale_by.cache_clear()
    k2, k3 = _launch_scale(2.0)[0], _launch_scale(3.0)[0]
    shutil.rmtree(cache_dir / k2.key)
    shutil.copytree(cache_dir / k3.key, cache_dir / k2.key)
    if forgery == "manifest_key_edited":   # the manifest claims the key; its ingredients do not hash to it
        manifest_path = cache_dir / k2.key / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest_path.write_text(json.dumps(dict(manifest, key=k2.key)))
    assert cache.load(k2.key) is None
    scale_by.cache_clear()
    k, x, out = _launch_scale(2.0)
    assert not k.from_disk
    np.testing.assert_array_equal(out, 2 * x)
    assert cache.load(k2.key).manifest["key"] == k2.key   # rewritten with the right kernel
    scale_by.cache_clear()
    k, x, out = _launch_scale(2.0)
    assert k.from_disk
    np.testing.assert_array_equal(out, 2 * x)


def _jitspv_files(cache_dir):
    return sorted(str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*"))


def test_clear_removes_only_jitspv_files(cache_dir):
    scale_by.cache_clear()
    _launch_scale(2.0)
    jitspv.synchronize()
    get_device().pipeline_cache.dirty = True
    get_device().pipeline_cache.save()
    for i in range(3):
        cache.store([i], _blob(), "{}", "t")
    foreign = {"project/file.txt": "mine", "notes.txt": "mine too", "a" * 64 + "/kernel.spv": "not jitspv's",
               "a" * 64 + "/photo.jpg": "mine", ".tmp-0123456789abcdef-x/user.txt": "mine"}
    for name, text in foreign.items():
        (cache_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (cache_dir / name).write_text(text)
    in_flight = cache_dir / ".tmp-0123456789abcdef-young"   # another process is writing this one
    in_flight.mkdir()
    (in_flight / "kernel.spv").write_bytes(_blob())
    stale = cache_dir / ".trash-0123456789abcdef-old"        # left behind by a killed process
    (stale / "entry").mkdir(parents=True)
    (stale / "entry" / "manifest.json").write_text("{}")
    old = time.time() - cache.TEMPORARY_GRACE_SECONDS - 60
    os.utime(stale, (old, old))
    assert cache.clear() == 4
    left = _jitspv_files(cache_dir)
    assert left == sorted(["project", "project/file.txt", "notes.txt", "a" * 64, "a" * 64 + "/photo.jpg",
                           ".tmp-0123456789abcdef-x", ".tmp-0123456789abcdef-x/user.txt",
                           in_flight.name, in_flight.name + "/kernel.spv"])
    assert all((cache_dir / name).read_text() == text for name, text in foreign.items()
               if not name.endswith("kernel.spv"))


def _storer(args):
    """Stores fresh entries in a loop; returns how many stores failed or warned."""
    cache_dir, seed, rounds = args
    os.environ["JITSPV_CACHE_DIR"] = cache_dir
    failures = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.CacheWarning)
        for i in range(rounds):
            try:
                cache.store([seed, i], _blob(1 << 20), "{}" * 50_000, "ttir" * 50_000)
            except Exception:   # noqa: BLE001 (any failure counts)
                failures += 1
    return failures


def test_clear_leaves_concurrent_writers_alone(cache_dir):
    cache_dir.mkdir(mode=0o700)
    ctx = mp.get_context("spawn")
    with ctx.Pool(3) as pool:
        result = pool.map_async(_storer, [(str(cache_dir), seed, 40) for seed in range(3)])
        clears = 0
        while not result.ready():
            cache.clear()
            clears += 1
        assert result.get() == [0, 0, 0]
    assert clears > 10


@pytest.fixture
def immutable_dir(cache_dir):
    """`cache_dir`, made immutable (chattr +i): nobody, root included, can create files in it."""
    cache_dir.mkdir(mode=0o700)
    if subprocess.run(["chattr", "+i", str(cache_dir)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here: no way to make a directory read-only for root")
    try:
        yield cache_dir
    finally:
        subprocess.run(["chattr", "-i", str(cache_dir)], check=True)


def test_read_only_cache_dir_is_one_warning(immutable_dir):
    scale_by.cache_clear()
    with pytest.warns(cache.CacheWarning) as caught:
        for scale in (2.0, 5.0):
            k, x, out = _launch_scale(scale)
            np.testing.assert_array_equal(out, scale * x)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert str(immutable_dir) in str(caught[0].message) and "not permitted" in str(caught[0].message)
    assert list(immutable_dir.iterdir()) == []


def test_cache_root_removed_while_storing(cache_dir, monkeypatch):
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp_after_removal(**kwargs):   # the root vanishes between its check and the write
        shutil.rmtree(cache_dir)
        return real_mkdtemp(**kwargs)

    monkeypatch.setattr(cache.tempfile, "mkdtemp", mkdtemp_after_removal)
    scale_by.cache_clear()
    with pytest.warns(cache.CacheWarning, match="No such file or directory"):
        k, x, out = _launch_scale(7.0)
    np.testing.assert_array_equal(out, 7 * x)


_UNWRITABLE_AT_EXIT = textwrap.dedent("""
    import os, shutil, sys, numpy as np
    sys.path.insert(0, {tests!r})
    from test_frontend_cache import _launch_scale
    root = os.environ["JITSPV_CACHE_DIR"]
    k, x, out = _launch_scale(2.0)
    assert (out == 2 * x).all()
    shutil.rmtree(root)                 # removed mid-run, and replaced by a file: it cannot come back
    open(root, "w").close()
    k, x, out = _launch_scale(3.0)
    assert (out == 3 * x).all()
    print("LAUNCHED")
""")


def test_cache_unwritable_at_exit_is_a_warning(tmp_path):
    code = _UNWRITABLE_AT_EXIT.format(tests=os.path.dirname(__file__))
    env = dict(os.environ, JITSPV_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "LAUNCHED" in proc.stdout, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("CacheWarning") == 1 and str(tmp_path / "cache") in proc.stderr, proc.stderr


# -- trust: the cache is code this process runs --------------------------------------------------

def test_cache_root_is_created_private(cache_dir):
    scale_by.cache_clear()
    _launch_scale(2.0)
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700


def _planted(cache_dir):
    """A well-formed entry under SCALE=2's key that multiplies by 3; checks that a trusted root
    runs it (whoever can write the cache is trusted: that is why the root must be private)."""
    scale_by.cache_clear()
    k2, k3 = _launch_scale(2.0)[0], _launch_scale(3.0)[0]
    _plant(cache_dir, k2, k3)
    scale_by.cache_clear()
    k, x, out = _launch_scale(2.0)
    assert k.from_disk
    np.testing.assert_array_equal(out, 3 * x)
    scale_by.cache_clear()
    return _jitspv_files(cache_dir)


def _launch_ignores_cache(cache_dir, files_before, reason):
    with pytest.warns(cache.CacheWarning, match=reason) as caught:
        k, x, out = _launch_scale(2.0)
    assert str(cache_dir) in str(caught[0].message)
    assert not k.from_disk
    np.testing.assert_array_equal(out, 2 * x)
    assert _jitspv_files(cache_dir) == files_before   # nothing written there either


@pytest.mark.parametrize("mode", [0o720, 0o702, 0o777, 0o1777])
def test_cache_writable_by_others_is_not_used(cache_dir, mode):
    files = _planted(cache_dir)
    os.chmod(cache_dir, mode)
    _launch_ignores_cache(cache_dir, files, r"writable by .*chmod go-w")


def test_cache_owned_by_another_user_is_not_used(cache_dir):
    files = _planted(cache_dir)
    try:
        os.chown(cache_dir, os.getuid() + 1, -1)
    except PermissionError:
        pytest.skip("only root can give a directory to another user")
    _launch_ignores_cache(cache_dir, files, f"owned by uid {os.getuid() + 1}")


def test_cache_cli_refuses_an_untrusted_root(cache_dir):
    files = _planted(cache_dir)
    os.chmod(cache_dir, 0o775)
    env = dict(os.environ, JITSPV_CACHE_DIR=str(cache_dir))
    for action in ("list", "clear"):
        proc = subprocess.run([sys.executable, "-m", "jitspv", "cache", action], capture_output=True, text=True,
                              env=env)
        assert proc.returncode == 1 and "chmod go-w" in proc.stdout, proc.stdout + proc.stderr
    assert _jitspv_files(cache_dir) == files
