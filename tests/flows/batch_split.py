from flowc import FlowSpec, batch, step


class BatchSplitFlow(FlowSpec):
    """Foreach splits and switches decided on AWS Batch, at every depth."""

    @batch(queue="cpu-queue", cpu=2, memory=4096)
    @step
    def start(self):
        self.regions = ["eu", "us"]
        self.next(self.region, foreach="regions")

    @batch(queue="cpu-queue")
    @step
    def region(self):
        self.region_name = self.input
        self.shards = [1, 20, 300] if self.region_name == "eu" else [4, 50]
        self.next(self.shard, foreach="shards")

    @batch(queue="cpu-queue")
    @step
    def shard(self):
        self.size = self.input
        self.kind = "big" if self.size > 10 else "small"
        self.next({"big": self.big, "small": self.small}, condition="kind")

    @step
    def big(self):
        self.cost = self.size // 10
        self.next(self.tally)

    @step
    def small(self):
        self.cost = 1
        self.next(self.tally)

    @step
    def tally(self):
        self.label = f"{self.region_name}/{self.kind}:{self.cost}"
        self.next(self.shard_join)

    @step
    def shard_join(self, inputs):
        self.labels = [i.label for i in inputs]
        self.next(self.region_join)

    @step
    def region_join(self, inputs):
        self.labels = sorted(label for i in inputs for label in i.labels)
        self.next(self.route)

    @batch(queue="cpu-queue")
    @step
    def route(self):
        self.mode = "wide" if len(self.labels) > 4 else "narrow"
        self.next({"wide": self.wide, "narrow": self.narrow}, condition="mode")

    @step
    def wide(self):
        self.summary = "wide: " + ", ".join(self.labels)
        self.next(self.report)

    @step
    def narrow(self):
        self.summary = "narrow: " + ", ".join(self.labels)
        self.next(self.report)

    @step
    def report(self):
        self.count = len(self.labels)
        self.next(self.end)

    @step
    def end(self):
        self.done = f"{self.mode} {self.count}"
