from flowc import FlowSpec, resources, schedule, step, timeout


@schedule(cron="every day")  # expect: FC403@16
class BadValues(FlowSpec):
    @resources(memory="lots", gpu=-1)  # expect: FC403@23, FC403@35
    @timeout(seconds=0)  # expect: FC403@6
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
