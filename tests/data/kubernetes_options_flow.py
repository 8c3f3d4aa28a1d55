"""A flow using the @kubernetes options Argo and Airflow put into the pod
(tmpfs, persistent volume claims, image pull secrets, extended resources, a
security context); the tests of both targets render it."""

from metaflow import FlowSpec, kubernetes, step


class PodOptionsFlow(FlowSpec):
    @kubernetes(memory=2048, use_tmpfs=True, tmpfs_path="/scratch", persistent_volume_claims={"datasets": "/data"},
                image_pull_secrets=["regcred"], extended_resources={"example.com/fpga": "1"},
                security_context={"run_as_user": 1000, "runAsNonRoot": True,
                                  "capabilities": {"drop": ["ALL"]}, "seccomp_profile": {"type": "RuntimeDefault"}})
    @step
    def start(self):
        self.next(self.end)

    @kubernetes(tmpfs_size=300, tmpfs_tempdir=False)
    @step
    def end(self):
        pass
