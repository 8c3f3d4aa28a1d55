"""A CSV file included in the run: its text is an artifact of every task,
read from disk at the start (`--data PATH` reads another file)."""

from flowc import FlowSpec, IncludeFile, step


class IncludeCsvFlow(FlowSpec):
    """Summarize an included CSV file and a binary one."""

    data = IncludeFile("data", default="data/iris.csv", is_text=True, encoding="utf-8", help="the iris sample")
    blob = IncludeFile("blob", default="data/blob.bin", is_text=False)

    @step
    def start(self):
        lines = self.data.strip().splitlines()
        self.header = lines[0].split(",")
        self.species = sorted({line.split(",")[2] for line in lines[1:]})
        self.next(self.measure, self.count)

    @step
    def measure(self):
        rows = [line.split(",") for line in self.data.strip().splitlines()[1:]]
        self.mean_length = round(sum(float(r[0]) for r in rows) / len(rows), 4)
        self.next(self.join)

    @step
    def count(self):
        self.blob_size = len(self.blob)
        self.blob_head = self.blob[:3]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.mean_length = inputs.measure.mean_length
        self.blob_size = inputs.count.blob_size
        self.chars = len(self.data)
        self.species = inputs.measure.species
        self.next(self.end)

    @step
    def end(self):
        self.report = f"{len(self.species)} species, mean length {self.mean_length}, {self.blob_size} bytes"
