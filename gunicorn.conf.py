"""gunicorn settings read automatically from the working directory (`gunicorn wsgi:app`)."""

# Access log lines without client codes (they appear in paths such as /clients/<code>).
logger_class = "placements.web.logs.RedactingLogger"
