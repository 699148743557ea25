# The one place gofutures' version is written: the package (__version__),
# `python -m gofutures --version` and the build metadata (pyproject.toml's
# [tool.setuptools.dynamic], which reads this file without importing the
# package) all take it from here.
__version__ = "0.1.0"
