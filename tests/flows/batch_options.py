from flowc import FlowSpec, batch, environment, resources, retry, secrets, step, timeout


class BatchOptionsFlow(FlowSpec):
    """Every AWS Batch setting a step can ask for."""

    @batch(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:2", queue="gpu-queue",
           iam_role="arn:aws:iam::123456789012:role/trainer", cpu=4, memory=30000, gpu=1, shared_memory=2048)
    @environment(vars={"MODE": "train"})
    @secrets(sources=["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-credentials"])
    @retry(times=3, minutes_between_retries=1.5)
    @timeout(minutes=10)
    @step
    def start(self):
        self.trained = True
        self.next(self.end)

    @resources(cpu=0.5, memory=512)
    @step
    def end(self):
        self.ok = self.trained
