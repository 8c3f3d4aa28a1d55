from flowc import FlowSpec, Parameter, project, schedule, secrets, step, trigger


@trigger(event="data_updated")
@schedule(daily=True)
@project(name="forecasting", branch="nightly")
class EventsFlow(FlowSpec):
    """Scheduled daily, triggered by an event, namespaced by a project; reads a secret."""

    region = Parameter("region", default="eu", help="where the data lives")
    max_rows = Parameter("max-rows", default=100, help="a name that is not a Python identifier")
    klass = Parameter("class", default="gold", help="a name that is a Python keyword")

    @secrets(sources=["db-credentials", "api-token"])
    @step
    def start(self):
        import os

        self.user = os.environ.get("DB_USER")
        self.token = os.environ.get("API_TOKEN")
        self.next(self.end)

    @step
    def end(self):
        self.seen = (self.region, self.user, self.token, self.max_rows, self.klass)
