"""Markers of the runtime tests."""


def pytest_configure(config):
    config.addinivalue_line("markers", "metaflow: runs flows under Metaflow itself to compare with flowc run")
