"""Synthetic raw data for the customer-value dbt project.

Run ``python -m customer_value.generator --help``. Purchases follow a true BG/NBD
process and purchase values a true Gamma-Gamma process; referrals a Gamma-Poisson
process; ground truth goes to ``<out>/_truth/``.
"""

from .config import BgNbdParams, GammaGammaParams, GeneratorConfig
from .generate import RunSummary, generate

__all__ = ["BgNbdParams", "GammaGammaParams", "GeneratorConfig", "RunSummary", "generate"]
