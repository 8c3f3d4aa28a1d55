from flowc import FlowSpec, kubernetes, resources, step

GPU_COUNT = 2
BIG_MEMORY = 16 * 1024


class ResourcesFlow(FlowSpec):
    """Resources, GPUs and Kubernetes pod options on different steps."""

    @resources(cpu=2, memory=4096, disk=20000)
    @step
    def start(self):
        self.prepared = True
        self.next(self.train)

    @resources(gpu=GPU_COUNT, memory=BIG_MEMORY, cpu=8)
    @kubernetes(
        node_selector={"node.kubernetes.io/instance-type": "p3.8xlarge"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        labels={"team": "ml"},
        annotations={"cost-center": "research"},
        service_account="trainer",
        namespace="ml-jobs",
    )
    @step
    def train(self):
        self.model = "weights"
        self.next(self.end)

    @step
    def end(self):
        self.ok = self.prepared and self.model == "weights"
