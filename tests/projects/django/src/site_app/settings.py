SECRET_KEY = "django-insecure-test-project"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "site_app.urls"
MIDDLEWARE = []
INSTALLED_APPS = []
USE_TZ = True
