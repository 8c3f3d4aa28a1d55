"""A flow using the @batch options the Step Functions target writes into its AWS Batch job
definitions, and a @kubernetes tmpfs carried onto AWS Batch."""

from metaflow import FlowSpec, batch, kubernetes, step


class BatchOptionsFlow(FlowSpec):
    @batch(memory=8192, use_tmpfs=True, max_swap=2048, swappiness=10, privileged=True,
           aws_batch_tags={"team": "ml"}, log_driver="awslogs", log_options=["awslogs-group:ml"],
           host_volumes=["/scratch"], efs_volumes=["fs-0123:/mnt/shared"], ephemeral_storage=50)
    @step
    def start(self):
        self.next(self.end)

    @kubernetes(tmpfs_size=256, tmpfs_path="/fast")
    @step
    def end(self):
        pass
