#!/usr/bin/env python3
"""Compact Terraform provider schemas for the GCP and Azure bundle checks.

The google and azurerm providers cannot be installed here (no Terraform
registry), so `terraform validate` cannot check GCP and Azure bundles. The
npm packages @cdktf/provider-google and @cdktf/provider-azurerm (MPL-2.0,
from the npm registry) describe every resource, data source and nested
block of one provider release in their `.jsii` file (~90 MB of JSON). This
script reads it and writes a small JSON the render tests load
(`crates/render/tests/support/schema.rs`):

    {"provider": "google", "version": "6.50.0",
     "resources": {"google_compute_instance": TYPE, ...},
     "data": {"google_compute_image": TYPE, ...},
     "types": {TYPE: {"arg": [required, CHILD_TYPE or null], ...}, ...}}

Argument names come from each property's Terraform Registry link
(`.../docs/resources/compute_instance#boot_disk`), else from the camelCase
name. Nothing of the packages is committed; the tarballs stay in the
output folder's `.npm/` cache.

Usage: provider_schemas.py OUTDIR
"""
import json
import os
import re
import subprocess
import sys
import tarfile

PACKAGES = [
    ("google", "@cdktf/provider-google@16.12.1"),
    ("azurerm", "@cdktf/provider-azurerm@14.23.1"),
]

LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/(\w+)/([\d.]+)/docs/(resources|data-sources)/(\w+)#(\w+)"
)


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def child_type(t):
    """The struct a property's type refers to (a nested block), if any."""
    if "fqn" in t:
        return None if t["fqn"].startswith("cdktf.") else t["fqn"]
    if "collection" in t:
        return child_type(t["collection"]["elementtype"])
    if "union" in t:
        for u in t["union"]["types"]:
            c = child_type(u)
            if c:
                return c
    return None


def docs_text(p):
    d = p.get("docs", {})
    return " ".join(
        [d.get("summary", ""), d.get("remarks", "")]
        + [str(v) for v in d.get("custom", {}).values()]
    )


def compact(jsii, provider):
    types = jsii["types"]
    out = {"provider": provider, "version": None, "resources": {}, "data": {}, "types": {}}
    for fqn, t in types.items():
        props = t.get("properties")
        if t.get("kind") != "interface" or not props:
            continue
        args = {}
        top = None
        for p in props:
            m = LINK.search(docs_text(p))
            name = m.group(5) if m else snake(p["name"])
            if m:
                out["version"] = m.group(2)
                if t["name"].endswith("Config") and top is None:
                    top = (m.group(3), m.group(4))
            args[name] = [not p.get("optional", False), child_type(p["type"])]
        out["types"][fqn] = args
        # `<Resource>Config` of a resource or data source: its top level.
        if top and t["name"].endswith("Config") and "cdktf.TerraformMetaArguments" in t.get(
            "interfaces", []
        ):
            kind, res = top
            key = "resources" if kind == "resources" else "data"
            out[key][f"{provider}_{res}"] = fqn
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    cache = os.path.join(outdir, ".npm")
    os.makedirs(cache, exist_ok=True)
    for provider, spec in PACKAGES:
        target = os.path.join(outdir, f"{provider}.json")
        if os.path.exists(target):
            continue
        name = spec.split("@")[1].split("/")[1]
        version = spec.rsplit("@", 1)[1]
        tgz = os.path.join(cache, f"cdktf-{name}-{version}.tgz")
        if not os.path.exists(tgz):
            subprocess.run(
                ["npm", "pack", spec, "--silent", "--pack-destination", cache],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        with tarfile.open(tgz) as tar:
            jsii = json.load(tar.extractfile("package/.jsii"))
        schema = compact(jsii, provider)
        tmp = target + ".tmp"
        with open(tmp, "w") as f:
            json.dump(schema, f, separators=(",", ":"), sort_keys=True)
        os.replace(tmp, target)
        print(
            f"{provider} {schema['version']}: {len(schema['resources'])} resources, "
            f"{len(schema['data'])} data sources -> {target}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
