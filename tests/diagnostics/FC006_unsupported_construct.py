from metaflow import FlowSpec, step


class AsyncStep(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    async def end(self):  # expect: FC006@15
        pass
