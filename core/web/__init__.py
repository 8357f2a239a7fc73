"""The web shell: templating, CSRF, security headers, error pages, static files, deps."""
