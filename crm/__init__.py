"""Shared business records: organizations, users, sites, contacts, product models, assets."""
