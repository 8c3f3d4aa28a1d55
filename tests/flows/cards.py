"""Cards, written for Metaflow: a default card with every component, two
cards with ids on each task of a foreach, a blank card with a title, and a
card on a step whose failure @catch takes."""

from metaflow import FlowSpec, Parameter, card, catch, current, step
from metaflow.cards import Artifact, Error, Image, Markdown, ProgressBar, Table, VegaChart

# a 1x1 PNG
DOT = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


class CardsFlow(FlowSpec):
    """A report of every kind of card."""

    n = Parameter("n", help="how many items", default=3)

    @card
    @step
    def start(self):
        self.items = list(range(self.n))
        current.card.append(Markdown("# Items\nThere are *%d* items; `<b>` stays text." % self.n))
        current.card.append(Table([[i, i * i] for i in self.items], headers=["item", "square"]))
        current.card.append(Artifact({"items": self.items}, name="inputs"))
        current.card.append(Image(DOT, label="a dot"))
        current.card.append(ProgressBar(max=self.n, value=self.n, label="items ready"))
        current.card.append(VegaChart({"mark": "bar", "data": {"values": [{"x": i} for i in self.items]}}))
        try:
            raise ValueError("shown, not raised")
        except ValueError as exc:
            current.card.append(Error(exc, "an error caught in the step"))
        self.next(self.square, foreach="items")

    @card(type="blank", id="summary")
    @card(id="details")
    @step
    def square(self):
        self.value = self.input * self.input
        current.card["summary"].append(Markdown("item %d" % self.input))
        current.card["details"].append(Table([[self.input, self.value]], headers=["in", "out"]))
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.fragile)

    @card(type="blank")
    @catch(var="failure", print_exception=False)
    @step
    def fragile(self):
        current.card.append(Markdown("before the failure"))
        raise RuntimeError("this step fails; @catch takes it")
        self.next(self.end)

    @card(type="blank", options={"title": "Total"})
    @step
    def end(self):
        current.card.append(Markdown("total **%d**" % self.total))


if __name__ == "__main__":
    CardsFlow()
