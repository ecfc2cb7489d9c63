"""The package's version, in this one place: the build reads it (pyproject.toml,
``[tool.hatch.version]``) and ``coinflex_async.__version__`` is it."""

__version__ = "0.1.0"
