from metaflow import Config, FlowSpec, IncludeFile, step


class BadDeclarations(FlowSpec):
    cfg = Config("cfg", default="c.json", default_value={"a": 1})  # expect: FC705@57
    data = IncludeFile("data", is_text="yes")  # expect: FC705@40

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
