# eldercare in containers, for offices that deploy that way (compose.yaml runs it).
# The same commands as the systemd units in deploy/systemd/, which the test suite checks;
# this file itself is not built by the tests (no container engine on the build machine).
#
#   docker compose build && docker compose up -d

# --- build: the wheels of eldercare and every dependency -----------------------------------
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- app: gunicorn or the worker, as the unprivileged user eldercare ----------------------
FROM python:3.11-slim-bookworm AS app
RUN useradd --system --uid 10001 --home-dir /var/lib/eldercare --create-home eldercare
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels eldercare && rm -rf /wheels
ENV STATIC_ROOT=/var/lib/eldercare/static \
    PRIVATE_MEDIA_ROOT=/var/lib/eldercare/private \
    BACKUP_DIR=/var/lib/eldercare/backups
# collectstatic reads no database and no secret; the settings only insist that they are set.
RUN SECRET_KEY=collectstatic-only-collectstatic-only-collectstatic-only \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build \
    eldercare-admin collectstatic --no-input -v0
USER eldercare
WORKDIR /var/lib/eldercare
RUN mkdir -p private backups
EXPOSE 8000
CMD ["gunicorn", "eldercare.wsgi", "--workers", "4", "--bind", "0.0.0.0:8000", "--timeout", "120"]

# --- nginx: Debian's nginx (the one `nginx -t` checks) with the static files ---------------
FROM debian:bookworm-slim AS nginx
RUN apt-get update && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
COPY deploy/nginx/eldercare.conf /etc/nginx/sites-enabled/eldercare.conf
RUN sed -i 's/server 127.0.0.1:8000;/server web:8000;/' /etc/nginx/sites-enabled/eldercare.conf
COPY --from=app /var/lib/eldercare/static /var/lib/eldercare/static
CMD ["nginx", "-g", "daemon off;"]
