from flowc import FlowSpec, project, schedule, step


@project(name="forecasting")
@schedule(cron="30 2 * * 1-5", timezone="Europe/Paris")
class ScheduledFlow(FlowSpec):
    """Runs on weekday nights."""

    @step
    def start(self):
        self.ran = True
        self.next(self.end)

    @step
    def end(self):
        self.ok = self.ran
