"""ganbench: GAN objectives trained under equal compute budgets, scored reproducibly."""

__version__ = "0.1.0"
