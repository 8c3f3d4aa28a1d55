"""A training flow driven by a JSON config: the config names the project,
sizes the training step and gives the learning rate's default."""

from flowc import FlowSpec, Config, Parameter, config_expr, project, resources, step


@project(name=config_expr("cfg.project"))
class ConfigTrainFlow(FlowSpec):
    """Train one small model per fold, with every setting from configs/train.json."""

    cfg = Config("cfg", default="configs/train.json", help="training settings")
    lr = Parameter("lr", default=cfg.train.lr, help="learning rate (default from the config)")

    @step
    def start(self):
        self.model_name = self.cfg.model.name
        self.layers = list(self.cfg["model"]["layers"])
        self.folds = list(self.cfg.folds)
        self.train_settings = self.cfg.train  # a ConfigValue, stored as it is
        self.next(self.train, foreach="folds")

    @resources(memory=cfg.train.memory, cpu=cfg.train.cpu)
    @step
    def train(self):
        epochs = self.cfg.train.epochs
        self.fold = self.input
        self.loss = round(sum(self.lr / (e + 1) for e in range(epochs)) * len(self.layers), 6)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.losses = sorted((i.fold, i.loss) for i in inputs)
        self.model_name = inputs[0].model_name
        self.epochs_seen = self.cfg.train.epochs
        self.next(self.end)

    @step
    def end(self):
        self.summary = f"{self.model_name}: {len(self.losses)} folds, lr={self.lr}"
        self.has_key = "train" in self.cfg and "missing" not in self.cfg
        self.keys = list(self.cfg.keys())  # in the file's order, as Metaflow gives them
