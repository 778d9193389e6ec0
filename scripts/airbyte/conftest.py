"""Registers the markers Airbyte's standard tests use, so that pytest knows them."""


def pytest_configure(config):
    config.addinivalue_line("markers", "image_tests: runs the connector's image with docker")
    config.addinivalue_line("markers", "requires_creds: needs the config under secrets/")
