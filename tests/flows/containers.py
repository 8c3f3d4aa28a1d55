from flowc import FlowSpec, batch, kubernetes, resources, secrets, step


class ContainersFlow(FlowSpec):
    """Steps in containers of their own: an image, GPUs, @batch with a queue,
    one inside a foreach; others in the flow's own pod."""

    @step
    def start(self):
        self.shards = ["a", "b", "c"]
        self.next(self.special, self.gpu)

    @kubernetes(image="registry.example.com/team/special:2.0", labels={"team": "ml"},
                persistent_volume_claims={"shared-data": "/mnt/data"}, secrets=["s3-creds"])
    @step
    def special(self):
        self.where = "special"
        self.next(self.meet)

    @resources(gpu=1, memory=30000, shared_memory=1024)
    @step
    def gpu(self):
        self.where = "gpu"
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.wheres = sorted(i.where for i in inputs)
        self.shards = inputs[0].shards
        self.next(self.fork)

    @step
    def fork(self):
        self.next(self.shard, foreach="shards")

    @batch(cpu=4, memory=8192, queue="big-jobs")
    @step
    def shard(self):
        self.out = self.input.upper()
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.outs = [i.out for i in inputs]
        self.wheres = inputs[0].wheres
        self.next(self.end)

    @step
    def end(self):
        self.summary = (self.wheres, self.outs)
