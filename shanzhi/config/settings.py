"""One settings module, driven by the environment (see README, "Configuration")."""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
import django_stubs_ext

from shanzhi.config.env import env_bool, env_int, env_list, env_str, secret_from_file

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SHANZHI_VAR_DIR", str(BASE_DIR.parent / "var")))
TESTING = "pytest" in sys.modules or env_bool("SHANZHI_TESTING")

SECRET_KEY = secret_from_file(name="SECRET_KEY", path=VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    "huey.contrib.djhuey",
    "shanzhi.core",
    "shanzhi.audit",
    "shanzhi.duties",
    "shanzhi.grid",
    "shanzhi.onewindow",
    "shanzhi.triage",
    "shanzhi.notify",
    "shanzhi.cases",
    "shanzhi.ratings",
    "shanzhi.cases.open311",
    "shanzhi.emergency",
    "shanzhi.cockpit",
    "shanzhi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A NUL in the path or query string is a 404 before any view (PostgreSQL refuses it in a query).
    "shanzhi.config.middleware.NulInUrlMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "shanzhi.onewindow.kiosk_access.KioskOnlyMiddleware",
]

ROOT_URLCONF = "shanzhi.config.urls"
WSGI_APPLICATION = "shanzhi.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shanzhi.web.context.navigation",
                "shanzhi.web.elder.elder_mode",
            ],
        },
    },
]

# SQLite by default (WAL, busy timeout, IMMEDIATE write transactions); PostgreSQL via DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shanzhi.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory test database
else:
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_shanzhi")}
DATABASE_URL_READ = env_str("DATABASE_URL_READ", "")
if DATABASE_URL_READ:
    DATABASES["read"] = dj_database_url.parse(DATABASE_URL_READ, conn_max_age=60)
for _db in DATABASES.values():
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: compiling a cockpit panel's aggregate took ~100 ms of a 300–400 ms query at
        # 10 M cases and never paid back on the app's short queries (bench/README.md, Cockpit).
        _db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Cockpit panels read from "read" when it exists (shanzhi/cockpit/replica.py); no-op otherwise.
DATABASE_ROUTERS = ["shanzhi.cockpit.replica.CockpitReadRouter"]
# Repeat complaints the cockpit page lists, worst first (the Excel export has all of them).
COCKPIT_REPEAT_PAGE_ROWS = env_int("COCKPIT_REPEAT_PAGE_ROWS", 200)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; the suite creates many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING or DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Background work: Huey in SQLite by default, Redis when REDIS_URL is set; inline in tests.
REDIS_URL = env_str("REDIS_URL", "")
HUEY: dict[str, object]
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "shanzhi", "url": REDIS_URL, "immediate": TESTING}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "shanzhi",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
    }

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL and not TESTING
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Audit signing key: PEM in the environment, else generated into var/ on first run.
AUDIT_SIGNING_KEY_PATH = VAR_DIR / "audit_ed25519.pem"

# Messages (notify): an SMS provider's JSON endpoint; without it, SMS wait in the outbox.
NOTIFY_SMS_URL = env_str("NOTIFY_SMS_URL", "")
NOTIFY_SMS_KEY = env_str("NOTIFY_SMS_KEY", "")
NOTIFY_SMS_SIGN = env_str("NOTIFY_SMS_SIGN", "")
NOTIFY_SMS_TIMEOUT = env_int("NOTIFY_SMS_TIMEOUT", 5)
# E-mail by SMTP; while EMAIL_HOST is empty, e-mail waits in the outbox.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")

# Working hours for deadlines (工作时), "HH:MM-HH:MM" pairs.
WORKING_HOURS = env_list("WORKING_HOURS", ["08:30-12:00", "13:30-17:30"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "shanzhi.core.masking.MaskPersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_personal_data"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every login at INFO; lock-outs (WARNING) are what an operator needs to see.
    "loggers": {"axes": {"level": "WARNING"}},
}
