"""The recommender ensemble from the article that motivated flowc.

Two models are trained in parallel on the same data: model A needs its own
(older) package versions, model B needs two GPUs and 16 GB of memory. An
ensemble step joins them. Locally everything runs on this machine; compiled
for an orchestrator, each step gets the container it asks for.

The models are kept dependency-free so the example runs anywhere; the pins
on fit_a show how a step asks for its own environment.
"""

import random

from flowc import FlowSpec, Parameter, pypi, resources, step

N_USERS = 40
N_ITEMS = 25


def load_data(seed):
    rng = random.Random(seed)
    return [(u, i, rng.randint(1, 5)) for u in range(N_USERS) for i in range(N_ITEMS) if rng.random() < 0.3]


class RecSysFlow(FlowSpec):
    """Train two recommenders in parallel and blend them."""

    alpha = Parameter("alpha", default=0.5, help="weight of model A in the blend")
    seed = Parameter("seed", default=7, help="seed of the synthetic ratings")

    @step
    def start(self):
        """Load the ratings both models train on."""
        self.data = load_data(self.seed)
        self.next(self.fit_a, self.fit_b)

    @pypi(packages={"scikit-learn": "0.21.1", "numpy": "1.16.6"}, python="3.7")
    @step
    def fit_a(self):
        """Model A: item popularity (mean rating per item)."""
        totals = {}
        for _, item, rating in self.data:
            s, n = totals.get(item, (0, 0))
            totals[item] = (s + rating, n + 1)
        self.model = {item: s / n for item, (s, n) in totals.items()}
        self.next(self.ensemble)

    @resources(gpu=2, memory=16000)
    @step
    def fit_b(self):
        """Model B: user bias on top of the global mean."""
        mean = sum(r for _, _, r in self.data) / len(self.data)
        by_item = {}
        for _, item, rating in self.data:
            by_item.setdefault(item, []).append(rating - mean)
        self.model = {item: mean + sum(d) / len(d) for item, d in by_item.items()}
        self.next(self.ensemble)

    @step
    def ensemble(self, inputs):
        """Blend the two models' scores item by item."""
        a, b = inputs.fit_a.model, inputs.fit_b.model
        self.scores = {item: round(self.alpha * a[item] + (1 - self.alpha) * b[item], 4) for item in sorted(a)}
        self.next(self.end)

    @step
    def end(self):
        """Report the top items."""
        self.top = sorted(self.scores, key=lambda i: (-self.scores[i], i))[:5]
        print("top items:", self.top)


if __name__ == "__main__":
    RecSysFlow()
