"""Plain functions the mixins' steps call."""


def scale(value, factor):
    return value * factor


def describe(label, value):
    return f"{label}:{value}"
