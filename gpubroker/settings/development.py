"""Local development: DEBUG on by default, everything embedded unless configured."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
