"""Always-active Triton backends (as NVIDIA's is on a CUDA machine), registered around jitspv's
by tests/test_triton_backend.py: `before` is imported before jitspv's modules, `after` after them."""
