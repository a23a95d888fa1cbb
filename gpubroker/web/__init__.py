"""The browser surface: the landing page at ``/``, the offline GraphiQL page and the static files
(site stylesheet, vendored GraphiQL build) they use."""
