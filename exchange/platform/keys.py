"""The exchange's keys: a key ring of each kind under ``TECHX_KEYS_DIR``.

- ``signing`` — Ed25519 keys of notices, certificates and ledger checkpoints (``signing/<id>.pem``);
- ``jwt`` — HMAC secrets of bearer tokens (``jwt/<id>.secret``);
- ``data`` — AES-256-GCM keys of confidential details (``data/<id>.aes256``).

Each kind's ``manifest.json`` names the current key, the legacy key (the one migrated from the
single-file layout, which opens what was made before key ids existed) and when each key was
created and retired. Files are written with mode 0600, the manifest atomically (temporary file,
then rename). Key ids are derived from the keys: a signing key's is the first 16 hex digits of
SHA-256 of its raw public key (the id notices named before rings existed), a secret's the same of
a hash of the secret.

A directory of earlier versions (``signing.ed25519.pem``, ``jwt.secret``, ``data.aes256`` and no
manifest) is read as a ring of one legacy key each; ``rotate_key`` moves it into the ring, keeping
the old file for earlier versions. In development and test missing keys are created on start; in
any other environment a missing key stops the start (``KeysMissing``): ``techx keys init``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.platform.clock import Clock, SystemClock
from exchange.platform.settings import Settings
from kernel.keyring import KeyRing
from kernel.time import rfc3339

CREATES_MISSING_KEYS = ("development", "test")  # an allow-list: production and anything else refuse


@dataclass(frozen=True)
class Signer:
    """Signs with one Ed25519 key; ``key_id`` lets verifiers pick the key from ``GET /keys``."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_raw(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_key_raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


@dataclass(frozen=True)
class KeyPeriod:
    """When a key became current and when another replaced it (None: it is current)."""

    created_at: datetime | None
    retired_at: datetime | None = None


@dataclass(frozen=True)
class Keys:
    signing: KeyRing[Signer]
    jwt: KeyRing[str]
    data: KeyRing[bytes]  # 32 bytes each, for AES-256-GCM
    signing_periods: Mapping[str, KeyPeriod] = field(default_factory=dict)

    @property
    def signer(self) -> Signer:
        """The current signing key: what this process signs with."""
        return self.signing.current

    @classmethod
    def single(cls, signer: Signer, jwt_secret: str, data_key: bytes) -> Keys:
        """One key of each kind, held in memory only."""

        def one(kind: str, key: Any) -> KeyRing[Any]:
            key_id = KINDS[kind].key_id(key)  # the id the key would have in a ring on disk
            return KeyRing(key_id, {key_id: key})

        return cls(signing=one("signing", signer), jwt=one("jwt", jwt_secret), data=one("data", data_key))


class KeysMissing(Exception):
    """The keys directory lacks a kind of key and this environment does not create keys on start."""

    def __init__(self, keys_dir: Path, kinds: list[str]) -> None:
        super().__init__(
            f"no {', '.join(kinds)} key in {keys_dir} (TECHX_KEYS_DIR); create the keys with: techx keys init"
        )
        self.kinds = kinds


# -- the kinds of key ---------------------------------------------------------------------------


def _secret_id(kind: str, secret: bytes) -> str:
    return hashlib.sha256(f"techx {kind} key\n".encode() + secret).hexdigest()[:16]


def _new_secret() -> bytes:
    return base64.b64encode(secrets.token_bytes(32))


def _new_signing_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _read_signing_key(content: bytes, path: Path) -> Signer:
    private_key = serialization.load_pem_private_key(content, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return Signer(private_key)


def _read_data_key(content: bytes, path: Path) -> bytes:
    key = base64.b64decode(content.strip())
    if len(key) != 32:
        raise ValueError(f"{path} must hold 32 bytes (base64) for AES-256")
    return key


@dataclass(frozen=True)
class _Kind:
    name: str
    suffix: str  # of the key files in the ring
    legacy_file: str  # the single file of earlier versions
    generate: Callable[[], bytes]
    read: Callable[[bytes, Path], Any]
    key_id: Callable[[Any], str]


KINDS: dict[str, _Kind] = {
    kind.name: kind
    for kind in (
        _Kind("signing", "pem", "signing.ed25519.pem", _new_signing_key, _read_signing_key, lambda s: s.key_id),
        _Kind(
            "jwt",
            "secret",
            "jwt.secret",
            _new_secret,
            lambda content, _: content.decode().strip(),
            lambda secret: _secret_id("jwt", secret.encode()),
        ),
        _Kind("data", "aes256", "data.aes256", _new_secret, _read_data_key, lambda key: _secret_id("data", key)),
    )
}


# -- the ring of one kind on disk ---------------------------------------------------------------


@dataclass(frozen=True)
class _Manifest:
    current: str
    legacy: str | None
    periods: dict[str, KeyPeriod]

    def to_json(self) -> bytes:
        keys = {
            key_id: {
                "created_at": rfc3339(p.created_at) if p.created_at else None,
                "retired_at": rfc3339(p.retired_at) if p.retired_at else None,
            }
            for key_id, p in self.periods.items()
        }
        return json.dumps({"current": self.current, "legacy": self.legacy, "keys": keys}, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, content: bytes) -> _Manifest:
        data = json.loads(content)

        def moment(text: str | None) -> datetime | None:
            return datetime.fromisoformat(text) if text else None

        periods = {k: KeyPeriod(moment(v["created_at"]), moment(v["retired_at"])) for k, v in data["keys"].items()}
        return cls(current=data["current"], legacy=data.get("legacy"), periods=periods)


@dataclass(frozen=True)
class _Ring:
    manifest: _Manifest
    keys: dict[str, Any]
    # The bytes of the single file of earlier versions, to move into the ring on the first
    # rotation; None once the kind has a manifest.
    legacy_content: bytes | None = None

    def key_ring(self) -> KeyRing[Any]:
        return KeyRing(self.manifest.current, self.keys, self.manifest.legacy)


def _manifest_path(keys_dir: Path, kind: _Kind) -> Path:
    return keys_dir / kind.name / "manifest.json"


def _key_path(keys_dir: Path, kind: _Kind, key_id: str) -> Path:
    return keys_dir / kind.name / f"{key_id}.{kind.suffix}"


def _read_ring(keys_dir: Path, kind: _Kind) -> _Ring | None:
    manifest_path = _manifest_path(keys_dir, kind)
    if manifest_path.exists():
        manifest = _Manifest.from_json(manifest_path.read_bytes())
        paths = {key_id: _key_path(keys_dir, kind, key_id) for key_id in manifest.periods}
        return _Ring(manifest, {key_id: kind.read(path.read_bytes(), path) for key_id, path in paths.items()})
    legacy_path = keys_dir / kind.legacy_file
    if legacy_path.exists():
        content = legacy_path.read_bytes()
        key = kind.read(content, legacy_path)
        key_id = kind.key_id(key)
        created = datetime.fromtimestamp(legacy_path.stat().st_mtime, UTC)
        manifest = _Manifest(current=key_id, legacy=key_id, periods={key_id: KeyPeriod(created)})
        return _Ring(manifest, {key_id: key}, legacy_content=content)
    return None


def _write_file(path: Path, content: bytes, *, replace: bool) -> bool:
    """Write ``content`` to ``path`` (mode 0600) through a temporary file renamed into place.
    Without ``replace`` an existing file is kept (two processes creating at once: the first wins);
    returns whether ``path`` now holds ``content``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)  # fails if the file exists: never overwrites
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def _add_key(keys_dir: Path, ring: _Ring | None, kind: _Kind, now: datetime) -> tuple[str, str | None]:
    """A new current key of ``kind`` in the ring on disk; returns its id and the previous current id."""
    content = kind.generate()
    key_id = kind.key_id(kind.read(content, keys_dir / kind.name))
    files = {key_id: content}
    periods: dict[str, KeyPeriod] = {}
    legacy = None
    previous = None
    if ring is not None:
        previous, legacy = ring.manifest.current, ring.manifest.legacy
        periods = dict(ring.manifest.periods)
        periods[previous] = KeyPeriod(periods[previous].created_at, now)
        if ring.legacy_content is not None:  # the single file of earlier versions becomes the ring's first key
            files[ring.manifest.current] = ring.legacy_content
    periods[key_id] = KeyPeriod(now)
    for file_id, file_content in files.items():
        _write_file(_key_path(keys_dir, kind, file_id), file_content, replace=False)
    manifest = _Manifest(current=key_id, legacy=legacy, periods=periods)
    if not _write_file(_manifest_path(keys_dir, kind), manifest.to_json(), replace=ring is not None):
        return _read_ring(keys_dir, kind).manifest.current, None  # type: ignore[union-attr]  # another process's
    return key_id, previous


# -- what the server and the commands use -------------------------------------------------------


def load_keys(keys_dir: Path) -> Keys:
    """The key rings of ``keys_dir``; ``KeysMissing`` names every kind without a key."""
    rings = {name: ring for name, kind in KINDS.items() if (ring := _read_ring(keys_dir, kind)) is not None}
    if len(rings) < len(KINDS):
        raise KeysMissing(keys_dir, [name for name in KINDS if name not in rings])
    return Keys(
        signing=rings["signing"].key_ring(),
        jwt=rings["jwt"].key_ring(),
        data=rings["data"].key_ring(),
        signing_periods=rings["signing"].manifest.periods,
    )


def init_keys(keys_dir: Path, now: datetime) -> dict[str, tuple[str, bool]]:
    """Create a key of each kind the directory lacks: ``{kind: (current key id, created now)}``."""
    done: dict[str, tuple[str, bool]] = {}
    for name, kind in KINDS.items():
        ring = _read_ring(keys_dir, kind)
        if ring is not None:
            done[name] = (ring.manifest.current, False)
        else:
            key_id, _ = _add_key(keys_dir, None, kind, now)
            done[name] = (key_id, True)
    return done


def rotate_key(keys_dir: Path, kind: str, now: datetime) -> tuple[str, str]:
    """A new current key of ``kind``; the previous one stays in the ring, retired at ``now``.
    Returns (new key id, previous key id). Run one rotation at a time."""
    ring = _read_ring(keys_dir, KINDS[kind])
    if ring is None:
        raise KeysMissing(keys_dir, [kind])
    key_id, previous = _add_key(keys_dir, ring, KINDS[kind], now)
    assert previous is not None
    return key_id, previous


def load_or_create_keys(settings: Settings, clock: Clock | None = None) -> Keys:
    """The keys of ``settings.keys_dir``, read once: a process uses the keys current when it started.
    In development and test missing keys are created first."""
    if settings.environment in CREATES_MISSING_KEYS:
        init_keys(settings.keys_dir, (clock or SystemClock()).now())
    return load_keys(settings.keys_dir)
