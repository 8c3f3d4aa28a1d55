"""Retries, timeouts and catch: a flow that survives a flaky dependency."""

from flowc import FlowSpec, catch, current, retry, step, timeout


class ResilientFlow(FlowSpec):
    """A step that fails on its first attempt, and one whose failure is caught."""

    @step
    def start(self):
        self.next(self.flaky, self.fragile)

    @retry(times=2, minutes_between_retries=0)
    @timeout(seconds=60)
    @step
    def flaky(self):
        # the first attempt fails, as a call to a flaky service would
        if current.retry_count == 0:
            raise ConnectionError("service unavailable")
        self.attempts = current.retry_count + 1
        self.next(self.join)

    @catch(var="failure")
    @step
    def fragile(self):
        self.value = 1 / 0
        self.next(self.join)

    @step
    def join(self, inputs):
        self.attempts = inputs.flaky.attempts
        self.caught = inputs.fragile.failure is not None
        self.next(self.end)

    @step
    def end(self):
        print("attempts:", self.attempts, "caught:", self.caught)


if __name__ == "__main__":
    ResilientFlow()
