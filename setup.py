# bench still calls setup.py on some paths; everything is declared in pyproject.toml.
from setuptools import setup

setup()
