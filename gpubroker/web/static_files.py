"""Static files served by the app itself under ASGI (whitenoise): compressed (gzip and Brotli,
chosen by ``Accept-Encoding``) and cache-busted (content-hashed names, served with a year's
``Cache-Control: immutable``).

Two small adaptations of whitenoise 6 (which is WSGI-first):

* :class:`WhiteNoiseMiddleware` answers with the file's bytes instead of a ``FileResponse``:
  Django's ASGI handler cannot stream a sync file iterator without a warning per response and
  reads it whole anyway; static files here are at most a few MB (the vendored GraphiQL build).
* :class:`StaticFilesStorage` is whitenoise's compressed manifest storage, except that a
  ``sourceMappingURL`` comment naming a map that is not shipped stays as it is (the vendored
  builds keep their published bytes, so their Subresource Integrity hashes stay valid), and that
  it writes gzip copies only: Brotli at whitenoise's quality 11 takes over a minute for the
  GraphiQL build here, and whether it ran would depend on ``Brotli`` happening to be installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from whitenoise.compress import Compressor
from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage


class WhiteNoiseMiddleware(_WhiteNoiseMiddleware):
    @staticmethod
    def serve(static_file: Any, request: HttpRequest) -> HttpResponse:
        answer = static_file.get_response(request.method, request.META)
        body = b""
        if answer.file is not None:
            try:
                body = answer.file.read()
            finally:
                answer.file.close()
        response = HttpResponse(body, status=int(answer.status))
        del response["Content-Type"]
        for key, value in answer.headers:
            response[key] = value
        return response


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs: Any) -> Compressor:
        return Compressor(**{**kwargs, "use_brotli": False})

    def url_converter(
        self, name: str, hashed_files: dict[str, str], template: str | None = None
    ) -> Callable[[Any], str]:
        convert = super().url_converter(name, hashed_files, template)

        def converter(match: Any) -> str:
            try:
                return convert(match)
            except ValueError:
                if "sourceMappingURL" in match.group("matched"):
                    return str(match.group("matched"))
                raise

        return converter
