"""The operations page's parts: data (``queries``), charts, templates and sessions."""
