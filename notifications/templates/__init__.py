"""The shipped message templates (Jinja2), one folder per locale; see notifications/messages.py."""
