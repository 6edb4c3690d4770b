# cocreate: one image for the web server (`cocreate serve`) and migrations (`cocreate db upgrade`).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Pango and a font for the PDF minutes (WeasyPrint).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 cocreate \
    && useradd --system --uid 10001 --gid cocreate --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin cocreate

# Sources are built in /build, then removed: the installed wheel carries everything.
WORKDIR /build
COPY pyproject.toml README.md babel.cfg hatch_build.py ./
COPY src/ src/
COPY templates/ templates/
COPY static/ static/
COPY migrations/ migrations/

# The build compiles the .mo catalogs into the wheel (hatch_build.py).
RUN pip install --no-cache-dir ".[postgres,redis,pdf]" \
    && cd / && rm -rf /build

# Runtime directory, writable by the unprivileged user (SQLite file or generated secret key
# when the container is run without a database URL or COCREATE_SECRET_KEY).
WORKDIR /app
RUN chown cocreate:cocreate /app
USER cocreate

ENV COCREATE_HOST=0.0.0.0 \
    COCREATE_PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

CMD ["cocreate", "serve"]
