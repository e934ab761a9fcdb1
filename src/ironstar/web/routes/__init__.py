"""Routers: every module here that defines ``router`` is mounted by the app factory."""
