from flowc import FlowSpec, Parameter, retry, step


class LoopInForeachFlow(FlowSpec):
    """A recursive switch inside a nested foreach: each item loops its own number of times."""

    rounds = Parameter("rounds", default=2, help="extra rounds for every item")

    @step
    def start(self):
        self.groups = [[1, 2], [3]]
        self.next(self.group, foreach="groups")

    @step
    def group(self):
        self.members = self.input
        self.next(self.member, foreach="members")

    @step
    def member(self):
        self.target = self.input + self.rounds
        self.count = 0
        self.next(self.spin)

    @retry(times=1, minutes_between_retries=0)
    @step
    def spin(self):
        self.count += 1
        self.state = "again" if self.count < self.target else "done"
        self.next({"again": self.spin, "done": self.settle}, condition="state")

    @step
    def settle(self):
        self.spins = self.count
        self.next(self.group_join)

    @step
    def group_join(self, inputs):
        self.spins = [i.spins for i in inputs]
        self.next(self.all_join)

    @step
    def all_join(self, inputs):
        self.spins = [i.spins for i in inputs]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(sum(s) for s in self.spins)
