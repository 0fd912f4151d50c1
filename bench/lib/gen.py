#!/usr/bin/python3
"""Generates what one benchmark size needs: the images manifest (with Dockerfiles so validate
passes), one distinct tiny image per name (config blob with a unique label, zero layers), the
curl configuration files that push them straight to the registry API, and the fake AWS state
holding the same images.

usage: gen.py DIR COUNT SHA REGISTRY_URL [AKID SECRET]
"""
import hashlib
import json
import os
import sys

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def tags_for(sha):
    return [f"prod-{sha}", f"prod-{sha[:7]}", "prod-latest"]


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    out, count, sha, registry = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    akid, secret = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else ("", "")
    os.makedirs(f"{out}/root", exist_ok=True)
    os.makedirs(f"{out}/blobs", exist_ok=True)
    tags = tags_for(sha)
    images, names = [], []
    post_lines, blob_lines, manifest_lines, tag_lines = [], [], [], []
    repositories = {}
    for i in range(count):
        name = f"bench/img-{i}"
        names.append(name)
        images.append({"id": f"img-{i}", "name": name, "dockerfile": f"img-{i}/Dockerfile",
                       "context": ".", "required": True, "taskDefContainerName": f"img-{i}"})
        os.makedirs(f"{out}/root/img-{i}", exist_ok=True)
        with open(f"{out}/root/img-{i}/Dockerfile", "w") as f:
            f.write(f"FROM scratch\nLABEL bench.image=img-{i}\n")
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "config": {"Labels": {"bench.image": f"img-{i}"}},
                             "rootfs": {"type": "layers", "diff_ids": []}},
                            separators=(",", ":")).encode()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        with open(f"{out}/blobs/config-{i}", "wb") as f:
            f.write(config)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": OCI_CONFIG, "digest": config_digest,
                                          "size": len(config)},
                               "layers": []}, separators=(",", ":"))
        with open(f"{out}/blobs/manifest-{i}", "w") as f:
            f.write(manifest)
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        post_lines += [f"url = {quoted(f'{registry}/v2/{name}/blobs/uploads/')}",
                       'output = "/dev/null"']
        # The upload location is only known after the POST; bench/run's populate step fills it in per image.
        blob_lines.append(f"{name}\t{out}/blobs/config-{i}\t{config_digest}")
        for tag in tags:
            manifest_lines += [f"upload-file = {quoted(f'{out}/blobs/manifest-{i}')}",
                               f"url = {quoted(f'{registry}/v2/{name}/manifests/{tag}')}"]
            tag_lines.append(f"{name}\t{tag}\t{digest}")
        repositories[name] = {"images": [{"manifest": manifest, "tags": tags}]}
    doc = {"version": "1.0.0", "images": images, "ecrRepositories": names,
           "tagging": {"strategy": "git-sha", "prefixes": {"production": "prod"},
                       "alwaysTag": ["{prefix}-{full_sha}", "{prefix}-{short_sha}",
                                     "{prefix}-latest"]}}
    with open(f"{out}/root/images-manifest.json", "w") as f:
        json.dump(doc, f, indent=1)
    with open(f"{out}/post.curl", "w") as f:
        f.write("\n".join(post_lines) + "\n")
    with open(f"{out}/blobs.tsv", "w") as f:
        f.write("\n".join(blob_lines) + "\n")
    with open(f"{out}/manifests.curl", "w") as f:
        f.write("\n".join(manifest_lines) + "\n")
    with open(f"{out}/tags.tsv", "w") as f:
        f.write("\n".join(tag_lines) + "\n")
    if akid:
        state = {"credentials": [{"accessKeyId": akid, "secretAccessKey": secret}],
                 "repositories": repositories}
        with open(f"{out}/fake-aws-state.json", "w") as f:
            json.dump(state, f)


if __name__ == "__main__":
    main()
