"""Configs in TOML and YAML (read with the parser each names) and one given
inline with default_value; their values reach decorators and steps."""

from flowc import FlowSpec, Config, config_expr, resources, retry, step, timeout


class ConfigFormatsFlow(FlowSpec):
    """Score labels with settings from three configs."""

    settings = Config("settings", default="configs/settings.toml", parser="tomllib.loads")
    labels = Config("labels", default="configs/labels.yaml", parser="yaml.safe_load")
    tuning = Config("tuning", default_value={"batch": 16, "seeds": [1, 2]})

    @retry(times=settings.retries)
    @step
    def start(self):
        self.run_name = self.settings.name
        self.rows = list(range(self.settings.limits.rows))
        self.next(self.score)

    @timeout(minutes=config_expr("settings.limits.timeout_minutes"))
    @step
    def score(self):
        self.batch = self.tuning.batch
        self.scores = {label: len(label) * self.labels.threshold for label in self.labels.labels}
        self.seeds = [s * 10 for s in self.tuning["seeds"]]
        self.next(self.end)

    @resources(**settings.resources)
    @step
    def end(self):
        self.total = sum(self.scores.values()) + len(self.rows)
