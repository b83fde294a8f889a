#!/usr/bin/python3
"""hsts-preload.py - converts Chromium's HSTS preload list into signatures/hsts-preload.csv
for detectors.http (http.hsts_plaintext).

Input: net/http/transport_security_state_static.json from a Chromium checkout (or the
copy in ../shared/data/chromium-hsts), whose // comment lines are stripped before
parsing. Only entries with mode "force-https" are HSTS entries (the others carry pins
or Expect-CT only). Names are lower-cased; include_subdomains is true or false.

  hsts-preload.py JSON OUT.csv
"""
import json
import sys

HEADER = """# hsts-preload.csv - names browsers reach only over HTTPS (HSTS preload, mode force-https).
# source: Chromium net/http/transport_security_state_static.json
#         (mirror hanpfei/chromium-net, commit 9df8ce98c2a14fb60c2f581853011e32eb4bed0f,
#         file last changed 2016-08), converted by signatures/hsts-preload.py
# licence: Chromium's BSD-style licence (Copyright 2012 The Chromium Authors)
# updated: 2026-11-21
# A 2016 snapshot (about a tenth of today's list): refresh it from a current Chromium
# checkout for live traffic. Add local names with detectors.http.hsts_names.
"""


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as fp:
        text = "\n".join(l for l in fp.read().split("\n") if not l.lstrip().startswith("//"))
    entries = json.loads(text)["entries"]
    seen = set()
    rows = []
    for e in entries:
        if e.get("mode") != "force-https":
            continue
        name = e["name"].lower().rstrip(".")
        if not name or "," in name or name in seen:
            continue
        seen.add(name)
        rows.append("%s,%s\n" % (name, "true" if e.get("include_subdomains") else "false"))
    with open(out, "w", encoding="utf-8") as fp:
        fp.write(HEADER)
        fp.write("name,include_subdomains\n")
        fp.writelines(rows)
    print("%d names" % len(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
