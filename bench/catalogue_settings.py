"""Settings for ``bench/catalogue_bench.py``'s server: the product's base settings (so
``OFFER_CACHE_SECONDS`` comes from the environment: the bench serves with the cache on and off)
plus the bench-only URLconf, which adds the bare-Django baseline view."""

from gpubroker.settings.base import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.catalogue_urls"
# The bench fires hundreds of anonymous requests per second from 127.0.0.1: the per-IP request
# limit (5/s) would answer 429. The limiter's bookkeeping is still executed (it is a no-op check).
RATE_LIMIT_REQUESTS_ENABLED = False
