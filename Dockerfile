# syntax=docker/dockerfile:1
# Build stage: resolve and build wheels once, with compilers available.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY app ./app
COPY training ./training
RUN pip wheel --wheel-dir /wheels .

# Runtime stage: only the wheels, a non-root user, no compilers.
FROM python:3.11-slim AS runtime
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 \
    WAYBILL_ENV=prod WAYBILL_LOG_JSON=true
RUN groupadd --system waybill && useradd --system --gid waybill --home-dir /srv waybill \
    && mkdir -p /srv/var && chown -R waybill:waybill /srv
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels waybill && rm -rf /wheels
WORKDIR /srv
USER waybill
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"
# Run migrations first in a one-off container: `docker run … waybill db upgrade`.
CMD ["waybill", "serve", "--host", "0.0.0.0", "--port", "8000"]
