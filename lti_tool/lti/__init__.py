"""LTI 1.3: registrations, tool keys, OIDC login, launch validation, deep linking, services."""
