"""The console's CSS and JavaScript, served under names that carry a hash of their content so
browsers may keep them for a year: a new version has a new name."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

STATIC: Final = Path(__file__).parent / "static"
TYPES: Final = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}  # fmt: skip
IMMUTABLE: Final = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    url: str


class Assets:
    def __init__(self, base: str, folder: Path = STATIC) -> None:
        self.by_url: dict[str, Asset] = {}
        self.urls: dict[str, str] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix not in TYPES:
                continue
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            url = f"{base}/static/{path.stem}.{digest}{path.suffix}"
            asset = Asset(body, gzip.compress(body, 9, mtime=0), TYPES[path.suffix], url)
            self.by_url[url] = asset
            self.urls[path.name] = url

    def url(self, name: str) -> str:
        return self.urls[name]

    async def serve(self, request: Request) -> Response:
        asset = self.by_url.get(request.url.path)
        if asset is None:
            return Response("not found", 404, media_type="text/plain")
        headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(asset.gzipped, 200, headers, media_type=asset.media_type)
        return Response(asset.body, 200, headers, media_type=asset.media_type)
