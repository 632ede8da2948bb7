"""Great Expectations' Data Docs, readable offline and named.

GX 1.24 writes pages that load Bootstrap, jQuery, bootstrap-table and Font Awesome from CDNs
(offline the index is blank: its tables are drawn by those scripts) and says "Data asset: None"
for a DataFrame checked in memory. After each build of the docs this points every page at the
copies bundled in `static/data_docs/` (see SOURCES.md there), removes what is not bundled, and
writes the asset's name (the checkpoint's, which names its data) into the page.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "static" / "data_docs"
BUNDLED = {  # a URL the pages name -> its bundled copy
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/all.min.css",
}
REMOTE_SCRIPT = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>')
REMOTE_LINK = re.compile(r'<link[^>]*\bhref="https?://[^"]*"[^>]*>')
REMOTE_IMAGE = re.compile(r'(<img[^>]*\bsrc=")https?://[^"]*/(logo-long\.png)[^"]*(")')
# CDN tags carry subresource-integrity and CORS attributes, which a browser refuses for file: URLs
CDN_ATTRIBUTES = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')
FAVICON = re.compile(r'href="[./]*static/images/favicon\.ico"')  # GX's is a level short on result pages
NO_ASSET = "Data asset: None"


def _copy_assets(site: Path) -> Path:
    target = site / "static" / "vendor"
    if not (target / "SOURCES.md").exists() or (target / "SOURCES.md").read_bytes() != (
            ASSETS / "SOURCES.md").read_bytes():
        shutil.copytree(ASSETS, target, dirs_exist_ok=True)
    return target


def _asset_name(site: Path, page: Path) -> str | None:
    """validations/<suite>/<run name>/<run time>/<batch>.html: the suite is named after its asset."""
    parts = page.relative_to(site).parts
    return parts[1] if len(parts) >= 3 and parts[0] == "validations" else None


def make_offline(site: Path) -> int:
    """Rewrite the site's pages in place; returns how many changed."""
    if not site.is_dir():
        return 0
    vendor = _copy_assets(site)
    changed = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        here = page.parent
        new = text
        for url, local in BUNDLED.items():
            new = new.replace(f'"{url}"', '"' + os.path.relpath(vendor / local, here) + '"')
        images = os.path.relpath(site / "static" / "images", here)
        new = FAVICON.sub(f'href="{images}/favicon.ico"', new)
        new = REMOTE_IMAGE.sub(rf"\g<1>{images}/\g<2>\g<3>", new)
        new = CDN_ATTRIBUTES.sub("", REMOTE_LINK.sub("", REMOTE_SCRIPT.sub("", new)))
        asset = _asset_name(site, page)
        if asset:
            new = new.replace(NO_ASSET, f"Data asset: {asset}")
        if new != text:
            tmp = page.with_name(f".{page.name}.tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, page)
            changed += 1
    return changed
