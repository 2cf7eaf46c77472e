"""Gunicorn settings for Cadre; `cadre serve` loads this file, and so can gunicorn itself:

    gunicorn -c config/gunicorn.conf.py 'lti_tool:create_app()'

Values come from the environment (prefix CADRE_, see config/.env.example) through Cadre's settings, so
this file holds no secrets and needs no editing per deployment. `cadre serve --bind/--workers` override it.
"""

from lti_tool.ops.serve import quit_without_deadlock
from lti_tool.settings import Settings

_settings = Settings()

# Listen on loopback (or a private interface) behind a reverse proxy that terminates HTTPS: LTI launches,
# cookies with `Secure; SameSite=None; Partitioned` and platform JWKS fetches all need https:// in production.
bind = [_settings.bind]
workers = _settings.workers
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
# Restart workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# A worker told to quit (Ctrl+C, SIGQUIT) exits even when the signal lands while it hands a connection to a
# thread (gunicorn's gthread handler can deadlock there and outlive its master, holding the port).
post_worker_init = quit_without_deadlock

# Cadre writes one JSON line per request itself (with the request id, without query values or form
# fields), so gunicorn's access log stays off. Turned on (`--access-logfile -`), its lines and the error
# log's go through Cadre's redacting logger: no credential value (lt=, invite=, state=, …) is written.
accesslog = None
errorlog = "-"
logger_class = "lti_tool.observability.GunicornLogger"
loglevel = _settings.log_level.lower()

# Only these proxies may set X-Forwarded-For/-Proto. Cadre builds its absolute URLs from CADRE_PUBLIC_URL,
# not from forwarded headers, but the proxy must still pass the right scheme for anything Flask derives.
# Set CADRE_FORWARDED_ALLOW_IPS to the proxy's address; never "*" on a host reachable from outside.
forwarded_allow_ips = _settings.forwarded_allow_ips

# Gunicorn 27 opens a control socket in ~/.gunicorn by default; Cadre needs none, and two instances on one
# host would fight over it.
control_socket_disable = True
