"""A logged-in HTTP session with the web app, as a person's browser has one.

It logs in through the `/login` form with the page's CSRF token, keeps the cookies, takes the
new session's token from its first page, and sends it in the `X-CSRF-Token` header on every
unsafe JSON call.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class WebError(RuntimeError):
    """The app answered with an error; `status` and the app's message are kept."""

    def __init__(self, method: str, path: str, response: httpx.Response) -> None:
        self.status = response.status_code
        self.body = _body(response)
        self.text = response.text[:4000]
        super().__init__(f"{method} {path}: HTTP {self.status}: {self.body}")


class WebSession:
    """One user's session; `client` may be any httpx.Client (a TestClient in tests)."""

    def __init__(self, client: httpx.Client, email: str, password: str) -> None:
        self.client = client
        self.email = email
        self.password = password
        self.csrf = ""

    def log_in(self) -> None:
        """Log in with the form, like a person; raise WebError when refused."""
        page = self.client.get("/login")
        match = _CSRF_FIELD.search(page.text)
        if match is None:
            raise WebError("GET", "/login", page)
        response = self.client.post(
            "/login",
            data={"email": self.email, "password": self.password, "csrf_token": match.group(1)},
            follow_redirects=False,
        )
        if response.status_code != 303:
            raise WebError("POST", "/login", response)
        # the token is bound to the session: the one of the login page is void from here on
        home = response.headers["location"]
        page = self.client.get(home)
        meta = _CSRF_META.search(page.text)
        if meta is None:
            raise WebError("GET", home, page)
        self.csrf = meta.group(1)

    def get_json(self, path: str) -> Any:
        return self._checked("GET", path, self._send("GET", path))

    def get_page(self, path: str) -> str:
        response = self._send("GET", path)
        self._checked("GET", path, response, json=False)
        meta = _CSRF_META.search(response.text)
        if meta:
            self.csrf = meta.group(1)
        return response.text

    def post_json(self, path: str, body: Any = None) -> Any:
        response = self._send("POST", path, json=body if body is not None else {})
        return self._checked("POST", path, response)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, "Accept": "application/json"}
        response = self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401:  # the session expired: log in again, once
            self.log_in()
            headers["X-CSRF-Token"] = self.csrf
            response = self.client.request(method, path, headers=headers, **kwargs)
        return response

    def _checked(
        self, method: str, path: str, response: httpx.Response, *, json: bool = True
    ) -> Any:
        if response.status_code >= 400:
            raise WebError(method, path, response)
        if not json or response.status_code == 204 or not response.content:
            return None
        return response.json()


def _body(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        error = data.get("error") or data.get("detail") or data
        if isinstance(error, dict):
            return str(error.get("message") or error)
        return str(error)
    return str(data)[:300]
