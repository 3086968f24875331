"""The web pages: a third front door over the same services as the API and the CLI.

Server-rendered Jinja2 templates (every value autoescaped: document text is untrusted), plain
HTML forms that post and redirect, and a few small scripts served by the app itself (no
inline script, no CDN) for what a form cannot do: streaming an answer as it is generated.
"""
