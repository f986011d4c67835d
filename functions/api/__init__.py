"""The management REST API (``functions.handlers.api``): routes, their models and errors."""
