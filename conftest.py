pytest_plugins = ["tejido_common.testing"]
