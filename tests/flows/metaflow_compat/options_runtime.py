"""Metaflow options a data scientist uses every day, in one flow: a list
parameter split on a separator, boolean flags, a flaky step retried, a
failure caught, and steps wrapped by the team's own decorators
(options_lib/deco.py)."""

import os

from flowc import FlowSpec, Parameter, card, catch, current, environment, resources, retry, step, timeout
from options_lib.deco import CountInputs, audited, forgiving, tagged, unless


class OptionsRuntimeFlow(FlowSpec):
    regions = Parameter("regions", default="eu,us", separator=",", help="regions to score, comma-separated")
    verbose = Parameter("verbose", is_flag=True, default=False, help="print every score")
    dry = Parameter("dry", is_flag=True, help="score nothing")
    alpha = Parameter("alpha", default=0.5, show_default=False)

    @card(type="default", id="summary", options={"only_repr": True}, scope="task", timeout=60,
          save_errors=True, customize=False, refresh_interval=10, rank=None)
    @audited
    @step(node_info={"owner": "ml-platform"})
    def start(self):
        self.region_count = len(self.regions)
        if self.verbose:
            print("regions:", self.regions)
        self.next(self.flaky, self.score, self.report)

    @retry(times=2, minutes_between_retries=0)
    @step
    def flaky(self):
        if current.retry_count < 2:
            raise ConnectionError("the feature store timed out")
        self.attempts = current.retry_count + 1
        self.next(self.join)

    @tagged(label="scored")
    @forgiving
    @environment(vars={"SCORE_MODE": "fast"})
    @resources(cpu=1, memory=512)
    @timeout(seconds=120)
    @step
    def score(self):
        self.forgiven = None
        self.mode = os.environ["SCORE_MODE"]
        self.scores = {region: round(self.alpha * len(region), 3) for region in self.regions}
        if "eu" in self.regions:
            raise ValueError("eu scores need a review")
        self.next(self.join)

    @unless(flag="dry")
    @catch(var="report_error", print_exception=False)
    @step
    def report(self):
        self.report_lines = [f"{r}: ok" for r in self.regions]
        self.next(self.join)

    @CountInputs
    @step
    def join(self, inputs):
        self.region_count = inputs.flaky.region_count
        self.attempts = inputs.flaky.attempts
        self.scores = inputs.score.scores
        self.forgiven = inputs.score.forgiven
        self.label = inputs.score.label
        self.skipped = inputs.report.skipped
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.region_count} regions, {self.attempts} attempts, forgiven: {self.forgiven}"
