# syntax=docker/dockerfile:1
# Small two-stage image: build a virtualenv, copy it into a slim runtime that runs as a
# non-root user, migrates to the newest revision and serves. It needs
# STOCKFLOW_DATABASE_URL (the embedded PostgreSQL is a development convenience and is
# not installed here).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /venv/bin/pip install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home stockflow
COPY --from=build /venv /venv
WORKDIR /app
COPY alembic.ini ./
COPY alembic ./alembic
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STOCKFLOW_HOST=0.0.0.0 \
    STOCKFLOW_PORT=8000 \
    STOCKFLOW_LOG_JSON=true
USER stockflow
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# `serve` migrates first, then runs uvicorn; SIGTERM shuts it down gracefully.
CMD ["stockflow", "serve"]
