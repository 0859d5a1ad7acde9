"""gan: the library behind the thesis's experiments (models, losses, training, data, metrics, runs, statistics).

Notebooks in analysis/ are thin: they call this package and write its artifacts. Nothing here imports notebooks,
rules or book code.
"""

__version__ = "0.1.0"
