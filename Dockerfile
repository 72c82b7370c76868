# Production image: migrations run at start, then gunicorn takes over the process. The
# workers' heartbeat files live in /dev/shm: on a container's overlay /tmp they can stall.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FLASK_APP=traceability APP_ENV=production
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pybabel compile -d traceability/translations \
    && useradd --system --home /app ocop && mkdir -p /app/instance && chown ocop /app/instance
USER ocop
EXPOSE 8000
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --workers ${WEB_CONCURRENCY:-2} --bind 0.0.0.0:8000 --worker-tmp-dir /dev/shm wsgi:app"]
