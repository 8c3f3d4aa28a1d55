from metaflow import FlowSpec, IncludeFile, step


class MissingData(FlowSpec):
    data = IncludeFile("data", default="FC706_no_such_data.csv")  # expect: FC706@40
    outside = IncludeFile("outside", default="../README.md")  # expect: FC706@46

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
