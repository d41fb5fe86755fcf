"""jitspv from several threads at once: launches, compiles, host reads and writes, frees, autotune."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_threads_launching_and_compiling_get_exact_results():
    # In a subprocess: before jitspv took locks this crashed the process (SIGSEGV in a fence
    # wait, 3 of 3 runs) or tripped the validation layer's threading checks.
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "thread_stress.py"), "3", "4"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}\n{proc.stderr[-4000:]}"
    status, launches, compiled = proc.stdout.split()
    assert status == "ok" and int(launches) >= 40 and int(compiled) >= 4, proc.stdout
