from triton.backends.compiler import BaseBackend


class FakeBackend(BaseBackend):
    @staticmethod
    def supports_target(target):
        return target.backend == "fake"

    def hash(self):
        return "fake"

    def parse_options(self, options):
        return options

    def add_stages(self, stages, options, language=None):
        pass

    def load_dialects(self, context):
        pass

    def get_module_map(self):
        return {}
