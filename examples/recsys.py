"""The recommender ensemble from the article that motivated flowc.

Two models are trained in parallel on the same data: model A needs its own,
older package versions; model B needs two GPUs and 16 GB of memory, and
newer versions. An ensemble step joins them. `flowc run` gives each model
step a virtual environment with exactly its pins; compiled for an
orchestrator, each step gets an image (or a bootstrapped environment) with
them, and the resources it asks for.

The models themselves are kept to plain Python so the example runs
anywhere; each step reports its model with the version of `tabulate` it
pinned.
"""

import random

from flowc import FlowSpec, Parameter, pypi, resources, step

N_USERS = 40
N_ITEMS = 25


def report(name, model):
    """Print a model's best items with whichever tabulate the step pinned."""
    import tabulate

    best = sorted(model.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    print(f"model {name} (tabulate {tabulate.__version__}):")
    print(tabulate.tabulate([(item, round(score, 3)) for item, score in best], headers=["item", "score"]))


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

    @pypi(packages={"tabulate": "0.8.10"}, python="3.11")
    @step
    def fit_a(self):
        """Model A: item popularity (mean rating per item), with old pins."""
        totals = {}
        for _, item, rating in self.data:
            s, n = totals.get(item, (0, 0))
            totals[item] = (s + rating, n + 1)
        self.model = {item: s / n for item, (s, n) in totals.items()}
        report("A", self.model)
        self.next(self.ensemble)

    @pypi(packages={"tabulate": "0.9.0"})
    @resources(gpu=2, memory=16000)
    @step
    def fit_b(self):
        """Model B: item scores corrected for each user's bias, on GPUs, with newer pins."""
        mean = sum(r for _, _, r in self.data) / len(self.data)
        by_user = {}
        for user, _, rating in self.data:
            by_user.setdefault(user, []).append(rating)
        bias = {user: sum(r) / len(r) - mean for user, r in by_user.items()}
        by_item = {}
        for user, item, rating in self.data:
            by_item.setdefault(item, []).append(rating - bias[user])
        self.model = {item: sum(d) / len(d) for item, d in by_item.items()}
        report("B", self.model)
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
