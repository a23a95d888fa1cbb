"""Leaf modules every app may import (no models, no Django app): the domain errors."""
