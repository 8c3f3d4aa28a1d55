from flowc import FlowSpec, batch, environment, kubernetes, resources, retry, step


class PlacementFlow(FlowSpec):
    """Light steps run where the flow runs; heavy ones are shipped to bigger hardware."""

    @step
    def start(self):
        self.rows = list(range(10))
        self.next(self.train_gpu, self.score_batch)

    @kubernetes(image="example.com/ml/trainer:2.0", gpu=1, gpu_vendor="amd", shared_memory=2048,
                persistent_volume_claims={"datasets": "/mnt/datasets"}, secrets=["hf-token"])
    @resources(cpu=4, memory=32768)
    @environment(vars={"MODE": "{{ not a template }}", "PLAIN": "yes"})
    @retry(times=2, minutes_between_retries=1.5)
    @step
    def train_gpu(self):
        self.model = sum(self.rows)
        self.next(self.join)

    @batch(queue="cpu-queue", cpu=2, memory=8192)
    @environment(vars={"MODE": "batch"})
    @step
    def score_batch(self):
        self.score = len(self.rows)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.summary = (inputs.train_gpu.model, inputs.score_batch.score)
        self.next(self.end)

    @step
    def end(self):
        self.done = True
