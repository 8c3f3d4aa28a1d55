from flowc import FlowSpec, secrets, step


class SecretsFlow(FlowSpec):
    """Secrets are referenced by name; their values never pass through flowc."""

    @secrets(sources=["db-credentials", "api-token"])
    @step
    def start(self):
        self.connected = True
        self.next(self.end)

    @step
    def end(self):
        self.ok = self.connected
