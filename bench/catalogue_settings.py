"""Settings for ``bench/catalogue_bench.py``'s server: the product's base settings plus the
bench-only URLconf (which adds the bare-Django baseline view). ``OFFER_CACHE_SECONDS`` comes from
the environment so one run can serve with the offer cache on and off."""

import os

from gpubroker.settings.base import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.catalogue_urls"
OFFER_CACHE_SECONDS = int(os.environ.get("OFFER_CACHE_SECONDS", "30"))
