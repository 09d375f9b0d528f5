"""citizenbot: answers about Shizhong District from its 2021 Government Work Report."""

__version__ = "0.1.0"
