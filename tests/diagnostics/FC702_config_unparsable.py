from metaflow import Config, FlowSpec, step


class BrokenConfig(FlowSpec):
    cfg = Config("cfg", default="FC702_config_unparsable.json")  # expect: FC702@33

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
