# qabot in webhook mode. Build: docker build -t qabot .   Run: see compose.yaml.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CORPUS_DIR=/corpus \
    DATABASE_PATH=/data/qabot.sqlite3 \
    XDG_DATA_HOME=/data \
    WEBHOOK_LISTEN=0.0.0.0:8080

WORKDIR /app
COPY . /app
# The README's install command, unchanged.
RUN python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" \
    && useradd --system --uid 10001 --home-dir /data qabot \
    && mkdir -p /data /corpus \
    && cp -r /app/corpus/. /corpus/ \
    && chown -R qabot:qabot /data /corpus
ENV PATH=/app/.venv/bin:$PATH

USER qabot
# The database (index, question log, backups' source) and the documents, uploads and .trash/.
VOLUME ["/data", "/corpus"]
EXPOSE 8080

# GET /healthz on the webhook server: 200 once the index is loaded.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('WEBHOOK_LISTEN', '0.0.0.0:8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

CMD ["qabot", "run"]
