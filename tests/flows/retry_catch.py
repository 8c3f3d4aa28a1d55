from flowc import FlowSpec, catch, current, retry, step, timeout


class RetryCatchFlow(FlowSpec):
    """A step that succeeds on its second attempt; one whose failure is caught."""

    @step
    def start(self):
        self.next(self.flaky, self.broken, self.slow)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        if current.retry_count < 1:
            raise RuntimeError("transient failure")
        self.attempt = current.retry_count
        self.next(self.join)

    @catch(var="error")
    @retry(times=1, minutes_between_retries=0)
    @step
    def broken(self):
        self.partial = True
        raise ValueError("always fails")
        self.next(self.join)

    @timeout(seconds=30)
    @step
    def slow(self):
        self.done = True
        self.next(self.join)

    @step
    def join(self, inputs):
        self.attempt = inputs.flaky.attempt
        self.caught = type(inputs.broken.error).__name__ if inputs.broken.error is not None else None
        self.done = inputs.slow.done
        self.next(self.end)

    @step
    def end(self):
        self.ok = self.done and self.caught is not None
