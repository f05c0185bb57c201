# syntax=docker/dockerfile:1
# Small two-stage image: build a virtualenv from the locked dependencies and the wheel
# (which carries the migrations), copy it into a slim runtime that runs as a non-root
# user, migrates to the newest revision (under an advisory lock) and serves. It needs
# STOCKFLOW_DATABASE_URL (the embedded PostgreSQL is a development convenience and is not
# installed here). tests/ops/test_wheel.py runs the same steps without Docker.

# A pinned release and Debian version; pin the digest too where the registry is reachable
# (docker buildx imagetools inspect python:3.11.11-slim-bookworm).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
COPY requirements.lock ./
RUN /venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
COPY alembic ./alembic
RUN /venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --no-create-home stockflow \
    && mkdir /data && chown stockflow /data
COPY --from=build /venv /venv
WORKDIR /app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STOCKFLOW_HOST=0.0.0.0 \
    STOCKFLOW_PORT=8000 \
    STOCKFLOW_DATA_DIR=/data \
    STOCKFLOW_LOG_JSON=true
USER stockflow
EXPOSE 8000
# Ready means the database answers, not only that the process is up.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# `serve` checks the settings, migrates, then runs uvicorn; SIGTERM shuts it down gracefully.
CMD ["stockflow", "serve"]
