"""Static files: the app's own assets and an allow-list of vendored npm files."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Receive, Scope, Send

from core.config import PROJECT_ROOT
from core.web.icons import SPRITE_NAME, build_sprite, icon_paths

APP_STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
NODE_MODULES = PROJECT_ROOT / "node_modules"
VENDOR_CACHE_CONTROL = "public, max-age=31536000, immutable"

_VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "uPlot.min.css": "uplot/dist/uPlot.min.css",
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "signature_pad.umd.min.js": "signature_pad/dist/signature_pad.umd.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    # cut from the npm geodata by `python -m core.basemap` at setup
    "basemap.json": ".fieldcrm-basemap/basemap.json",
}
_LEAFLET_IMAGES = "leaflet/dist/images"
# Domain packages whose own `static/` directory is served under /static/<package>/.
STATIC_PACKAGES = ("crm", "telemetry", "service_orders", "ledger", "partner_portal", "customer_app")


def vendor_files(node_modules: Path = NODE_MODULES) -> dict[str, Path]:
    """Every vendored file the app serves, by URL name; fails when npm setup has not run."""
    files = {name: node_modules / rel for name, rel in _VENDOR_FILES.items()}
    images = node_modules / _LEAFLET_IMAGES
    if images.is_dir():
        files.update({f"images/{p.name}": p for p in sorted(images.iterdir()) if p.is_file()})
    missing = [str(path) for path in files.values() if not path.is_file()]
    if not images.is_dir():
        missing.append(str(images))
    if missing:
        raise RuntimeError(
            f"Vendored front-end files are missing ({', '.join(missing)}): run make setup"
        )
    return files


def generated_vendor_files(node_modules: Path = NODE_MODULES) -> dict[str, bytes]:
    """Files the app makes from npm files: the sprite of the icons the pages use."""
    paths = icon_paths(node_modules)
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise RuntimeError(f"Icons are missing ({', '.join(missing)}): run make setup")
    return {SPRITE_NAME: build_sprite(paths)}


@lru_cache
def _generated() -> dict[str, bytes]:
    return generated_vendor_files()


@lru_cache
def vendor_url(name: str) -> str:
    """URL of a vendored file with a content hash, so it can be cached for a year."""
    body = _generated()[name] if name in _generated() else vendor_files()[name].read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:12]
    return f"/static/vendor/{name}?v={digest}"


class _VendorFiles:
    """Serves only the allow-listed files; nothing else under node_modules is reachable."""

    def __init__(self, files: dict[str, Path], generated: dict[str, bytes]) -> None:
        self.files = files
        self.generated = generated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/")
        path = self.files.get(name)
        headers = {"Cache-Control": VENDOR_CACHE_CONTROL}
        response: Response
        if scope["method"] not in ("GET", "HEAD") or (path is None and name not in self.generated):
            response = PlainTextResponse("Not found", status_code=404)
        elif path is None:
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            response = Response(self.generated[name], media_type=media_type, headers=headers)
        else:
            response = FileResponse(path, headers=headers)
        await response(scope, receive, send)


class _RevalidatedStaticFiles(StaticFiles):
    # Our own assets change with every deploy and carry no hash: revalidate via ETag.
    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def package_static_dirs(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """The existing `static/` directories of the listed domain packages, by package."""
    dirs = {package: root / package / "static" for package in STATIC_PACKAGES}
    return {package: path for package, path in dirs.items() if path.is_dir()}


def mount_static(app: FastAPI) -> None:
    """Mount /static/app (core/static), /static/vendor (allow-listed node_modules files and the
    icon sprite made from them) and /static/<package> for each listed domain package that has
    a static/ directory."""
    app.mount("/static/app", _RevalidatedStaticFiles(directory=APP_STATIC_DIR), name="static")
    app.mount("/static/vendor", _VendorFiles(vendor_files(), _generated()), name="vendor")
    for package, directory in package_static_dirs().items():
        app.mount(
            f"/static/{package}",
            _RevalidatedStaticFiles(directory=directory),
            name=f"static-{package}",
        )
