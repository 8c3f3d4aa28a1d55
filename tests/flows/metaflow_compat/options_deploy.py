"""A weekday scoring job as a team deploys it: its project and schedule, a
secret read by name, the pod each scoring task asks for, and options Metaflow
has that change nothing here (a declared container port, @parallel's
hostname timeout): flowc accepts them and says it ignores them."""

from flowc import FlowSpec, Parameter, kubernetes, project, retry, schedule, secrets, step, timeout


@project(name="scoring", branch="nightly", production=False)
@schedule(cron="0 6 * * 1-5", timezone="Europe/Paris")
class OptionsDeployFlow(FlowSpec):
    batch_size = Parameter("batch-size", type=int, default=300, required=False, show_default=True,
                           help="rows per scoring task")

    @secrets(sources=["db-credentials"], allow_override=True)
    @step
    def start(self):
        self.batches = [list(range(i, i + self.batch_size // 100)) for i in range(0, 9, 3)]
        self.next(self.score, foreach="batches")

    @kubernetes(cpu=1, memory=1024, port=8080, hostname_resolution_timeout=60)
    @timeout(minutes=1, hours=0)
    @retry(times=1)
    @step
    def score(self):
        self.total = sum(x * x for x in self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.totals = [i.total for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.grand_total = sum(self.totals)
