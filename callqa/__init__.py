"""callqa: scores every recorded sales call against a sales script, in Russian and English."""

__version__ = "0.1.0"
