from metaflow import Config, FlowSpec, step


class MissingConfigFile(FlowSpec):
    cfg = Config("cfg", default="FC701_no_such_config.json")  # expect: FC701@33

    @step
    def start(self):
        self.n = self.cfg.n
        self.next(self.end)

    @step
    def end(self):
        pass
