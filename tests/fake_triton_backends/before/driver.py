from triton.backends.compiler import GPUTarget
from triton.backends.driver import DriverBase


class FakeDriver(DriverBase):
    @staticmethod
    def is_active():
        return True

    def map_python_to_cpp_type(self, ty):
        return ty

    def get_current_target(self):
        return GPUTarget("fake", 0, 32)

    def get_active_torch_device(self):
        raise RuntimeError("fake backend")

    def get_benchmarker(self):
        raise RuntimeError("fake backend")
