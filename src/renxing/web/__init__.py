"""Web wiring shared by every domain: dependencies, error handling, templates, i18n."""
