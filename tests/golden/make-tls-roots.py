#!/usr/bin/python3
"""make-tls-roots.py - builds tests/golden/tls-roots.pem, the trust anchors the TLS
golden tests replay old captures with (tls.public_ca_files, system_roots: false), so
their results depend neither on today's date nor on the CI machine's CA bundle.

The anchors are public certificates:
  - DST Root CA X3 and GeoTrust Global CA (the Equifax-signed one): from Chromium's
    static pins file (../shared/data/chromium-hsts, BSD-style licence);
  - StartCom Class 1 DV Server CA: the intermediate as sent in the mitmengine captures
    (its root is not in them; it is trusted here as a partial-chain anchor);
  - DigiCert Global Root CA, Go Daddy Class 2 CA, ISRG Root X1: from Debian's
    ca-certificates (Mozilla's CA list, MPL-2.0).

  make-tls-roots.py SHARED_DIR OUT.pem
"""
import subprocess
import sys


def pins_cert(path, name):
    lines = open(path, encoding="utf-8").read().splitlines()
    i = lines.index(name)
    out = []
    for l in lines[i + 1:]:
        out.append(l)
        if l.startswith("-----END"):
            break
    return "\n".join(out) + "\n"


def pcap_cert(pcap, cn):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tls.handshake.type==11", "-T", "fields",
                          "-e", "tls.handshake.certificate"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        for h in line.split(","):
            der = bytes.fromhex(h.replace(":", ""))
            pem = subprocess.run(["openssl", "x509", "-inform", "der"], input=der,
                                 capture_output=True).stdout.decode()
            subj = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem.encode(),
                                  capture_output=True).stdout.decode()
            if "CN = " + cn in subj:
                return pem
    raise SystemExit("%s: no certificate %s" % (pcap, cn))


def describe(pem):
    return subprocess.run(["openssl", "x509", "-noout", "-subject", "-dates"], input=pem.encode(),
                          capture_output=True).stdout.decode()


def main():
    shared, out = sys.argv[1], sys.argv[2]
    pins = shared + "/data/chromium-hsts/transport_security_state_static.pins"
    certs = [
        ("Chromium static pins: DSTRootCAX3", pins_cert(pins, "DSTRootCAX3")),
        ("Chromium static pins: GeoTrustGlobal", pins_cert(pins, "GeoTrustGlobal")),
        ("corpus tls/mitmengine_middleboxes__fortigate.pcap",
         pcap_cert(shared + "/corpus/tls/mitmengine_middleboxes__fortigate.pcap",
                   "StartCom Class 1 DV Server CA")),
    ]
    for f in ("DigiCert_Global_Root_CA", "Go_Daddy_Class_2_CA", "ISRG_Root_X1"):
        certs.append(("Debian ca-certificates " + f, open("/etc/ssl/certs/%s.pem" % f).read()))
    with open(out, "w") as fp:
        fp.write("# tls-roots.pem - trust anchors for the TLS golden tests (made by make-tls-roots.py)\n")
        for src, pem in certs:
            fp.write("\n# from: %s\n" % src)
            for l in describe(pem).splitlines():
                fp.write("# %s\n" % l)
            fp.write(pem)


if __name__ == "__main__":
    main()
