"""Renders a Kustomize base the way `kustomize build --load-restrictor
LoadRestrictionsNone` does, for the few fields deploy/kubernetes uses
(resources, configMapGenerator with files/envs/literals, generatorOptions
with disableNameSuffixHash), so that CI can validate the manifests without
kustomize. Any other field is an error, never silently skipped.

Usage: render_kustomize.py DIR > rendered.yaml
"""
import os
import sys

import yaml

KNOWN = {"apiVersion", "kind", "resources", "configMapGenerator", "generatorOptions"}


def fail(message):
    sys.exit(f"render_kustomize: {message}")


def env_pairs(path):
    pairs = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                fail(f"{path}:{number}: expected KEY=VALUE")
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


def config_map(base, spec):
    unknown = set(spec) - {"name", "files", "envs", "literals"}
    if unknown:
        fail(f"configMapGenerator {spec.get('name')}: unsupported {sorted(unknown)}")
    data = {}
    for entry in spec.get("files", []):
        key, _, path = entry.partition("=") if "=" in entry else (os.path.basename(entry), "", entry)
        with open(os.path.join(base, path), encoding="utf-8") as f:
            data[key] = f.read()
    for path in spec.get("envs", []):
        data.update(env_pairs(os.path.join(base, path)))
    for literal in spec.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": spec["name"]}, "data": data}


def render(base):
    with open(os.path.join(base, "kustomization.yaml"), encoding="utf-8") as f:
        k = yaml.safe_load(f)
    unknown = set(k) - KNOWN
    if unknown:
        fail(f"kustomization.yaml: unsupported fields {sorted(unknown)}")
    options = k.get("generatorOptions", {})
    if options != {"disableNameSuffixHash": True}:
        fail("generatorOptions must be exactly disableNameSuffixHash: true")
    docs = [config_map(base, spec) for spec in k.get("configMapGenerator", [])]
    for resource in k.get("resources", []):
        with open(os.path.join(base, resource), encoding="utf-8") as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    return docs


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: render_kustomize.py DIR")
    yaml.safe_dump_all(render(sys.argv[1]), sys.stdout, sort_keys=False)
