from flowc import FlowSpec, pypi, step


class Conflicting(FlowSpec):
    @pypi(packages={"scikit-learn": "1.5.2", "scikit_learn": "1.4.0"})  # expect: FC603@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
