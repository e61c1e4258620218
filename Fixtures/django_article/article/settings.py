"""Settings of the django_article fixture.

The database is PostgreSQL through psycopg 3. Host, port, user, password and name come from
the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) that
`pgtestkit audit` / `eval "$(pgtestkit server env --database NAME)"` export, falling back to
DATABASE_URL (postgresql://user@/name?host=/socket/dir&port=5432).

ARTICLE_MODE picks which variant of the article's notification-type sync is active:

  connection_created  the buggy receiver on django.db.backends.signals.connection_created
  ready               AppConfig.ready() seeding (guarded by a table-exists check) + post_migrate
  post_migrate        the post_migrate receiver only (the fix)
"""
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-article-fixture-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

ARTICLE_MODES = ("connection_created", "ready", "post_migrate")
ARTICLE_MODE = os.environ.get("ARTICLE_MODE", "post_migrate")
if ARTICLE_MODE not in ARTICLE_MODES:
    raise RuntimeError(f"ARTICLE_MODE={ARTICLE_MODE!r}: expected one of {', '.join(ARTICLE_MODES)}")

INSTALLED_APPS = [
    "alerts.apps.AlertsAppConfig",
]

MIDDLEWARE = []
ROOT_URLCONF = "article.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database_from_environment():
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    query = parse_qs(url.query)
    from_url = {
        "host": query.get("host", [url.hostname or ""])[0],
        "port": query.get("port", [str(url.port) if url.port else ""])[0],
        "user": unquote(url.username or ""),
        "password": unquote(url.password or ""),
        "name": unquote(url.path.lstrip("/")),
    }

    def pick(variable, key):
        return os.environ.get(variable) or from_url[key]

    name = pick("PGDATABASE", "name")
    if not name:
        raise RuntimeError("set PGDATABASE or DATABASE_URL (eval \"$(pgtestkit server env --database NAME)\")")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": pick("PGUSER", "user"),
        "PASSWORD": pick("PGPASSWORD", "password"),
        "HOST": pick("PGHOST", "host"),
        "PORT": pick("PGPORT", "port"),
        # Labels Django's sessions in the server log (scripts/django-scenario lists them).
        "OPTIONS": {"application_name": os.environ.get("PGAPPNAME") or "django_article"},
        # The test database is Django's default: "test_" + NAME.
    }


DATABASES = {"default": _database_from_environment()}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"alerts": {"handlers": ["console"], "level": os.environ.get("ALERTS_LOG_LEVEL", "WARNING")}},
}
