from metaflow import Config, FlowSpec, Parameter, config_expr, project, resources, step


@project(name=config_expr("cfg.project"))  # expect: FC703@27
class MissingKey(FlowSpec):
    cfg = Config("cfg", default="FC703_config.json")
    epochs = Parameter("epochs", default=cfg.train.epoch)  # expect: FC703@42

    @resources(memory=cfg["train"]["memroy"])  # expect: FC703@23
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
