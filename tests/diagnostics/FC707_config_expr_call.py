from metaflow import Config, FlowSpec, config_expr, environment, step


class ExprCall(FlowSpec):
    cfg = Config("cfg", default_value={"mode": "Fast"})

    @environment(vars={"MODE": config_expr("cfg.mode.lower()")})  # expect: FC707@44
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
