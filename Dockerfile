# sendgrid-mirror as a container: `docker build -t sendgrid-mirror .`, then
#   docker run -p 8090:8090 -p 8091:8091 -p 2525:2525 -p 2465:2465 -v sgmirror:/data \
#     -e SGMIRROR_API_KEY=SG.<id>.<secret> -e SGMIRROR_ADMIN_TOKEN=<token> sendgrid-mirror
# BASE is any image with python3 (3.11+) and its venv module.
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN python3 -m venv /opt/sgmirror \
 && /opt/sgmirror/bin/pip install --no-cache-dir --disable-pip-version-check . \
 && /opt/sgmirror/bin/sgmirror --version

FROM ${BASE}
COPY --from=build /opt/sgmirror /opt/sgmirror
# A numeric user: no user database needed in the base, and never root.
RUN mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
ENV PATH=/opt/sgmirror/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SGMIRROR_HOST=0.0.0.0 \
    SGMIRROR_DATA_DIR=/data
VOLUME ["/data"]
# HTTP API, HTTPS API, SMTP relay (STARTTLS), SMTP relay (implicit TLS)
EXPOSE 8090 8091 2525 2465
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SGMIRROR_HTTP_PORT', '8090') + '/_mirror/health', timeout=2)"]
ENTRYPOINT ["sgmirror"]
CMD ["serve"]
