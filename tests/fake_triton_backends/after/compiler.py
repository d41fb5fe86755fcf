from fake_triton_backends.before import compiler as _before


class FakeAfterBackend(_before.FakeBackend):
    @staticmethod
    def supports_target(target):
        return target.backend == "fake_after"
