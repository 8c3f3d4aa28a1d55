from metaflow import Config, FlowSpec, step


class OwnParser(FlowSpec):
    cfg = Config("cfg", default_value="a=1", parser="my_company.configs.parse")  # expect: FC704@53

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
