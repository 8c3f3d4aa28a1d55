# expect-file: FC002
"""A module with classes, but none derives from FlowSpec."""


class NotAFlow:
    def start(self):
        pass
