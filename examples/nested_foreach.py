"""A nested foreach: a grid of (model, fold) tasks, joined level by level."""

from flowc import FlowSpec, step


class GridSearchFlow(FlowSpec):
    """Score every (model, fold) pair, pick the best model."""

    @step
    def start(self):
        self.models = ["linear", "tree", "knn"]
        self.next(self.per_model, foreach="models")

    @step
    def per_model(self):
        self.model = self.input
        self.folds = [0, 1, 2]
        self.next(self.score, foreach="folds")

    @step
    def score(self):
        # a stand-in for training: deterministic, different per pair
        self.fold = self.input
        self.score_value = (len(self.model) * 7 + self.fold * 3) % 10
        self.next(self.per_model_done)

    @step
    def per_model_done(self, inputs):
        self.model = inputs[0].model
        scores = [i.score_value for i in inputs]
        self.mean_score = sum(scores) / len(scores)
        self.next(self.pick)

    @step
    def pick(self, inputs):
        best = max(inputs, key=lambda i: (i.mean_score, i.model))
        self.best_model = best.model
        self.board = {i.model: i.mean_score for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        print("best model:", self.best_model, self.board)


if __name__ == "__main__":
    GridSearchFlow()
