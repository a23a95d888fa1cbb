# GPUBROKER production image (multi-stage).
#   build:   a virtualenv with the project and its dependencies; static files collected
#            (content-hashed, gzipped) with build-time settings that need no secrets.
#   runtime: slim Python, the virtualenv and the sources only, a non-root user, a healthcheck,
#            and the token-redacting entry point (`python -m apps.websocket_gateway.serve`,
#            daphne's command line with secrets removed from the access log), as `make run` uses.
# Configuration comes from the environment (README "Environment variables"): SECRET_KEY,
# ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, JWT_PRIVATE_KEY, FIELD_ENCRYPTION_KEYS, ...
# docker-compose.yml runs it as two web processes, a scheduled sync worker and a migrator.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml ./
COPY gpubroker ./gpubroker
COPY apps ./apps
COPY schema ./schema
RUN pip install .
COPY graphql ./graphql
COPY manage.py ./
# Base settings (no secrets needed); the collected files are what production serves.
RUN DJANGO_SETTINGS_MODULE=gpubroker.settings.base GPUBROKER_VAR_DIR=/app/var \
    python manage.py collectstatic --noinput --verbosity 0

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=gpubroker.settings.production GPUBROKER_VAR_DIR=/app/var
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin gpubroker
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /app /app
RUN chown gpubroker /app/var
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["python", "-m", "apps.websocket_gateway.serve"]
CMD ["--proxy-headers", "-b", "0.0.0.0", "-p", "8000", "gpubroker.asgi:application"]
