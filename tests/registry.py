"""A real OCI registry for the pull/push tests: Debian's `docker-registry` (CNCF
distribution 2.8), optionally behind a token server, optionally behind a TCP proxy
that counts the bytes it forwards and can cut connections.

Set-up (scripts/setup.sh) installs the package; each test starts its own instances
on 127.0.0.1 with free ports and a temporary storage folder.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
SERVICE = "tokenwire-test-registry"
ISSUER = "tokenwire-test-issuer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """`docker-registry serve` on 127.0.0.1:<free port>, storage in `root`."""

    def __init__(
        self,
        root: Path,
        token_server: TokenServer | None = None,
        port: int = 0,
        basic: tuple[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ):
        self.root = root
        self.port = port or free_port()
        self.token_server = token_server
        self.basic = basic
        self.tls = tls  # (certificate, key) PEM files: serve HTTPS
        self.log_path = root / "registry.log"
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _config(self) -> str:
        cfg = f"""version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {self.root / "data"}
  delete:
    enabled: true
http:
  addr: {self.address}
  secret: tokenwire-test-secret
"""
        if self.tls is not None:
            cfg += f"""  tls:
    certificate: {self.tls[0]}
    key: {self.tls[1]}
"""
        if self.token_server is not None:
            cfg += f"""auth:
  token:
    realm: {self.token_server.url}/token
    service: {SERVICE}
    issuer: {ISSUER}
    rootcertbundle: {self.token_server.cert_path}
"""
        if self.basic is not None:
            import bcrypt

            user, password = self.basic
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(
                f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
            )
            cfg += f"""auth:
  htpasswd:
    realm: tokenwire-basic-realm
    path: {htpasswd}
"""
        return cfg

    def start(self) -> Registry:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(self._config())
        log = open(self.log_path, "a")  # the child keeps its own copy
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited:\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def blob_data(self, digest: str) -> Path:
        hexd = digest.split(":", 1)[1]
        return self.root / "data/docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

    def requests(self) -> list[dict[str, str]]:
        """The access log: one dict of http.* fields per completed request."""
        out = []
        for line in self.log_path.read_text().splitlines():
            if 'msg="response completed"' not in line:
                continue
            fields = dict(
                (k, v.strip('"'))
                for k, _, v in (part.partition("=") for part in _split_logfmt(line))
                if k.startswith("http.")
            )
            out.append(fields)
        return out


def _split_logfmt(line: str) -> list[str]:
    parts, cur, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == " " and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def make_tls(root: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1 and localhost signed by it:
    (ca.pem, cert.pem, key.pem). Clients trust the CA through SSL_CERT_FILE. A client
    certificate from the same CA, for mutual TLS, is beside them: client.pem and
    client-key.pem."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenwire test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenwire test client")]))
        .issuer_name(ca_name)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "client.pem").write_bytes(client.public_bytes(serialization.Encoding.PEM))
    (root / "client-key.pem").write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths = root / "ca.pem", root / "cert.pem", root / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


# --------------------------------------------------------------------- token server


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A distribution-style token server: checks basic credentials, grants the scopes
    asked for, and signs RS256 JWTs whose x5c certificate the registry trusts."""

    def __init__(self, root: Path, username: str = "alice", password: str = "s3cret"):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.username, self.password = username, password
        self.requests: list[dict] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenwire test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        root.mkdir(parents=True, exist_ok=True)
        self.cert_path = root / "token-root.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _token(self, service: str, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": ISSUER,
            "sub": self.username,
            "aud": service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(sig)}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                auth = self.headers.get("Authorization", "")
                server.requests.append({"path": url.path, "query": query, "authorization": auth})
                if auth != expected:
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
                    self.send_response(401)
                else:
                    token = server._token(query.get("service", [""])[0], query.get("scope", []))
                    body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


# --------------------------------------------------------------------- proxy


class Proxy:
    """A TCP proxy on 127.0.0.1:<port 0> in front of `target`. Counts the bytes sent
    back to clients; `cut_after(n, then)` closes every connection once n more bytes
    have gone through and calls `then` (e.g. to kill the registry)."""

    def __init__(self, target: str):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.downstream = 0
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._cut_at: int | None = None
        self._on_cut: Callable[[], None] | None = None
        self._hold_at: int | None = None
        self._flowing = threading.Event()
        self._flowing.set()
        self.holding = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cut_after(self, n: int, then: Callable[[], None] | None = None) -> None:
        with self._lock:
            self._cut_at = self.downstream + n
            self._on_cut = then

    def hold_after(self, n: int) -> None:
        """Stop forwarding to clients once n more bytes have gone through, until release()."""
        with self._lock:
            self._hold_at = self.downstream + n

    def release(self) -> None:
        self._hold_at = None
        self.holding.clear()
        self._flowing.set()

    def close(self) -> None:
        self.release()
        self._listener.close()
        self._cut_all()

    def _cut_all(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, down: bool) -> None:
        try:
            while data := src.recv(65536):
                cut = None
                if down:
                    self._flowing.wait()
                    with self._lock:
                        if self._hold_at is not None and self.downstream + len(data) >= self._hold_at:
                            self._flowing.clear()
                            self.holding.set()
                        if self._cut_at is not None and self.downstream + len(data) >= self._cut_at:
                            data = data[: max(0, self._cut_at - self.downstream)]
                            cut, self._cut_at = self._on_cut or (lambda: None), None
                        self.downstream += len(data)
                dst.sendall(data)
                if cut is not None:
                    self._cut_all()
                    cut()
                    return
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def wait_http(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
