"""gunicorn settings read automatically from the working directory (`gunicorn wsgi:app`)."""

from placements.config import trusted_proxies

# Access log lines without client codes (they appear in paths such as /clients/<code>).
logger_class = "placements.web.logs.RedactingLogger"

# Forwarded headers are believed only as TRUSTED_PROXIES says, also from loopback: with 0
# gunicorn trusts no peer (its default trusts 127.0.0.1, so any local client could claim
# HTTPS with X-Forwarded-Proto); behind a proxy on this machine, only that proxy, and only
# the one scheme header nginx sets. The app's ProxyFix reads the same setting.
forwarded_allow_ips = "127.0.0.1,::1" if trusted_proxies() > 0 else ""
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
