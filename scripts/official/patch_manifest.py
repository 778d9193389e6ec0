"""Point the official connector's manifest at a configurable base URL.

    python patch_manifest.py SITE_PACKAGES/source_intercom/manifest.yaml

airbyte-source-intercom 0.8.3 hard-codes its API host once, in the shared requester
definition (every stream and paginator refers to it with `$ref`):

    url_base: "https://api.intercom.io/"

This rewrites that single line to

    url_base: "{{ config.get('base_url') or 'https://api.intercom.io/' }}"

The CDK (HttpRequester, DefaultPaginator) interpolates url_base with the config, so the
connector then reads from `config["base_url"]` when given (the spec allows extra config
keys: additionalProperties is true) and from api.intercom.io otherwise. Nothing else in
the package changes. The pristine file is kept beside it as manifest.yaml.orig; the
patch refuses a manifest whose sha256 is not the one of 0.8.3, and running it twice
is a no-op.
"""

import hashlib
import pathlib
import sys

PRISTINE_SHA256 = "28c2384801a104d8cb035d2163c2aa6def6e287fcb59a4d46d8f289ee5105887"
ORIGINAL = '    url_base: "https://api.intercom.io/"\n'
PATCHED = "    url_base: \"{{ config.get('base_url') or 'https://api.intercom.io/' }}\"\n"


def main() -> int:
    manifest = pathlib.Path(sys.argv[1])
    orig = manifest.with_name(manifest.name + ".orig")
    text = manifest.read_text()
    if PATCHED in text and orig.exists():
        print(f"already patched: {manifest}", file=sys.stderr)
        return 0
    digest = hashlib.sha256(text.encode()).hexdigest()
    if digest != PRISTINE_SHA256:
        print(f"unexpected manifest (sha256 {digest}), not patching: {manifest}", file=sys.stderr)
        return 1
    if text.count(ORIGINAL) != 1:
        print(f"url_base line not found exactly once in {manifest}", file=sys.stderr)
        return 1
    orig.write_text(text)
    manifest.write_text(text.replace(ORIGINAL, PATCHED))
    print(f"patched url_base in {manifest} (original kept as {orig.name})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
