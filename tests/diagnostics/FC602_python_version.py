from flowc import FlowSpec, pypi, step


class BadPython(FlowSpec):
    @pypi(python="3.99", packages={"tabulate": "0.9.0"})  # expect: FC602@6
    @step
    def start(self):
        self.next(self.end)

    @pypi(python="2.7")  # expect: FC602@6
    @step
    def end(self):
        pass
