# Shoal: an SQS-compatible message broker.
#   docker build -t shoal .
#   docker run -p 4566:4566 -p 4567:4567 -v shoal-data:/data shoal
# Every dependency ships wheels for linux/amd64 and linux/arm64, so the slim
# image needs no compiler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY broker ./broker
COPY protocol ./protocol
COPY storage ./storage
COPY bench ./bench
RUN pip install . && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin shoal \
    && mkdir -p /data && chown shoal:shoal /data
USER shoal
WORKDIR /data
VOLUME /data

# 4566: HTTP (SQS JSON and Query, /_shoal/health, /metrics); 4567: binary protocol.
EXPOSE 4566 4567

HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('SHOAL_PORT', '4566'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/_shoal/health', timeout=2).status == 200 else 1)"]

# SIGTERM (docker stop) makes shoal finish in-flight requests, commit and exit 0.
ENTRYPOINT ["shoal"]
CMD ["serve", "--host", "0.0.0.0", "--data-dir", "/data"]
