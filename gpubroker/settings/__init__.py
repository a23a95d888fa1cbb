"""Settings package: ``base`` holds everything common; ``development``, ``production`` and ``test``
override it. ``DJANGO_SETTINGS_MODULE`` picks one (``manage.py`` defaults to development)."""
