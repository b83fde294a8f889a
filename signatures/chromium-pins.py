#!/usr/bin/python3
"""chromium-pins.py - converts Chromium's static pins into signatures/pins.csv and
signatures/pinsets.csv for detectors.issuer.chromium_pins.

Input: net/http/transport_security_state_static.json (with // comment lines) and
net/http/transport_security_state_static.pins from a Chromium checkout (or the copy
in ../shared/data/chromium-hsts). SPKI hashes are SHA-256 of the DER
SubjectPublicKeyInfo (RFC 7469), base64: computed from each named certificate or
public key with the openssl command; "sha256/..." entries are taken as they are.
bad_static_spki_hashes are not used. Entries whose pinset has no usable key are
skipped (reported on stderr).

  chromium-pins.py JSON PINS OUTDIR
"""
import base64
import hashlib
import json
import re
import subprocess
import sys

HEADER = """# {name} - {what}
# source: Chromium net/http/transport_security_state_static.json and .pins
#         (mirror hanpfei/chromium-net, commit 9df8ce98c2a14fb60c2f581853011e32eb4bed0f,
#         files last changed 2016-08), converted by signatures/chromium-pins.py
# licence: Chromium's BSD-style licence (Copyright 2012 The Chromium Authors)
# updated: 2026-11-21
# A 2016 snapshot: the pinned keys of that time. Use it for captures of that era or
# refresh it from a current Chromium checkout before enabling it on live traffic.
"""


def spki_of_pem(block):
    kind = "x509" if "CERTIFICATE" in block else "pkey"
    if kind == "x509":
        pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=block.encode(),
                             capture_output=True, check=True).stdout
    else:
        pub = block.encode()
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         capture_output=True, check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def read_pins(path):
    keys = {}
    name = None
    block = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#") or not line.strip():
            continue
        if block:
            block.append(line)
            if line.startswith("-----END"):
                keys[name] = spki_of_pem("\n".join(block) + "\n")
                block = []
            continue
        if line.startswith("-----BEGIN"):
            block = [line]
            continue
        if line.startswith("sha256/"):
            keys[name] = line[len("sha256/"):]
            continue
        name = line.strip()
    return keys


def main():
    js, pins, out = sys.argv[1], sys.argv[2], sys.argv[3]
    text = "\n".join(l for l in open(js, encoding="utf-8") if not re.match(r"\s*//", l))
    data = json.loads(text)
    keys = read_pins(pins)
    sets = {}
    with open(out + "/pinsets.csv", "w") as fp:
        fp.write(HEADER.format(name="pinsets.csv", what="Chromium static pinsets: the SPKI SHA-256 of each pinned key."))
        fp.write("pinset,spki_sha256\n")
        for ps in data["pinsets"]:
            if ps["name"] == "test":
                continue
            got = [keys[k] for k in ps.get("static_spki_hashes", []) if k in keys]
            if not got:
                print("pinset %s: no keys" % ps["name"], file=sys.stderr)
                continue
            sets[ps["name"]] = got
            for h in got:
                fp.write("%s,%s\n" % (ps["name"], h))
    with open(out + "/pins.csv", "w") as fp:
        fp.write(HEADER.format(name="pins.csv", what="names Chromium pinned to a pinset (statically)."))
        fp.write("name,include_subdomains,pinset\n")
        for e in data["entries"]:
            p = e.get("pins")
            if not p or p not in sets:
                continue
            subs = bool(e.get("include_subdomains") or e.get("include_subdomains_for_pinning"))
            fp.write("%s,%s,%s\n" % (e["name"], "true" if subs else "false", p))


if __name__ == "__main__":
    main()
