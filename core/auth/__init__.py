"""Auth primitives: roles, the principal of a request, password hashing, server-side sessions."""
