# Production image: daphne serving HTTP + WebSocket. Configuration comes from the environment
# (DJANGO_SETTINGS_MODULE=gpubroker.settings.production, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL,
# REDIS_URL, JWT keys — see README).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=gpubroker.settings.production
WORKDIR /app
RUN useradd --create-home --uid 10001 gpubroker
COPY pyproject.toml ./
COPY gpubroker ./gpubroker
COPY apps ./apps
COPY schema ./schema
COPY graphql ./graphql
COPY manage.py ./
RUN pip install --no-cache-dir . && mkdir -p /app/var && chown gpubroker /app/var
USER gpubroker
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status==200 else 1)"
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "gpubroker.asgi:application"]
