# SPDX-License-Identifier: MIT
"""tlsca: throwaway certificate authorities and server certificates for tests.

Everything is made with the openssl command-line tool (argv lists, no
shell) in a private temporary directory, once per test process, and removed
when the process exits. What you get (see get_pki()):

  ca_file            the test CA that heed is told to trust (ca_file = ...)
  cert_file/key_file a server certificate from that CA for IP:127.0.0.1 and
                     DNS:localhost, the one the fake servers normally use
  wrong_host_cert/.._key
                     from the same CA, but only for DNS:wrong.example.invalid
                     (a host name mismatch when reached as 127.0.0.1)
  other_ca_file      a second, unrelated CA
  untrusted_cert/.._key
                     for 127.0.0.1/localhost but issued by other_ca (a
                     certificate the client must refuse: unknown issuer)
"""

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

_lock = threading.Lock()
_cached = None


@dataclass(frozen=True)
class PKI:
    dir: str
    ca_file: str
    ca_key: str
    cert_file: str
    key_file: str
    wrong_host_cert: str
    wrong_host_key: str
    other_ca_file: str
    other_ca_key: str
    untrusted_cert: str
    untrusted_key: str

    def server_pair(self, kind="good"):
        """(cert, key) for kind "good", "wrong_host" or "untrusted"."""
        pairs = {
            "good": (self.cert_file, self.key_file),
            "wrong_host": (self.wrong_host_cert, self.wrong_host_key),
            "untrusted": (self.untrusted_cert, self.untrusted_key),
        }
        if kind not in pairs:
            raise ValueError(f"unknown certificate kind {kind!r}; want one of {sorted(pairs)}")
        return pairs[kind]


def _run(argv, cwd):
    proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("openssl failed (%d): %s\n%s" % (
            proc.returncode, " ".join(argv), proc.stderr.decode(errors="replace")))


def _make_ca(d, name, cn):
    key = os.path.join(d, name + ".key")
    pem = os.path.join(d, name + ".pem")
    _run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", key, "-out", pem, "-days", "7", "-sha256",
          "-subj", "/O=heed tests/CN=" + cn,
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-addext", "subjectKeyIdentifier=hash"], d)
    os.chmod(key, 0o600)
    return pem, key


def _make_leaf(d, name, ca_pem, ca_key, san, cn):
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    pem = os.path.join(d, name + ".pem")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid,issuer\n"
                "subjectAltName=" + san + "\n")
    _run([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", key, "-out", csr, "-subj", "/O=heed tests/CN=" + cn], d)
    _run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
          "-CAcreateserial", "-out", pem, "-days", "7", "-sha256", "-extfile", ext], d)
    os.chmod(key, 0o600)
    return pem, key


def get_pki():
    """Make (once per process) and return the test PKI."""
    global _cached
    with _lock:
        if _cached is not None:
            return _cached
        if not os.access(OPENSSL, os.X_OK):
            raise RuntimeError("openssl CLI not found; install the Debian package 'openssl'")
        d = tempfile.mkdtemp(prefix="heed-pki-")
        atexit.register(shutil.rmtree, d, True)
        ca_pem, ca_key = _make_ca(d, "ca", "heed test CA")
        cert, key = _make_leaf(d, "server", ca_pem, ca_key,
                               "IP:127.0.0.1,DNS:localhost", "localhost")
        wcert, wkey = _make_leaf(d, "wrong-host", ca_pem, ca_key,
                                 "DNS:wrong.example.invalid", "wrong.example.invalid")
        oca_pem, oca_key = _make_ca(d, "other-ca", "unrelated test CA")
        ucert, ukey = _make_leaf(d, "untrusted", oca_pem, oca_key,
                                 "IP:127.0.0.1,DNS:localhost", "localhost")
        _cached = PKI(dir=d, ca_file=ca_pem, ca_key=ca_key, cert_file=cert, key_file=key,
                      wrong_host_cert=wcert, wrong_host_key=wkey,
                      other_ca_file=oca_pem, other_ca_key=oca_key,
                      untrusted_cert=ucert, untrusted_key=ukey)
        return _cached


if __name__ == "__main__":
    pki = get_pki()
    for k, v in pki.__dict__.items():
        print(f"{k}: {v}")
