"""Weights I/O: safetensors only, config in the header, a manifest with hashes.

Every network is one ``.safetensors`` file whose header metadata holds
``{"family": ..., "network": ..., "config": <json>}`` (the diffusers way: the
config travels with the weights).  Nothing here ever unpickles anything.

``weights/manifest.json`` maps each shipped file name to its sha256, the data
it was trained on, the number of steps, the command that reproduces it and the
metrics that ``python -m ganmodels.evaluate`` measured on it.  A file whose
hash does not match its manifest entry is refused.

Hub loading (opt-in) goes through ``huggingface_hub.hf_hub_download`` into the
normal cache; with ``HF_HUB_OFFLINE=1`` it reads that cache only.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ganmodels.errors import GanModelsError

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "weights"
MANIFEST = "manifest.json"


class WeightsError(GanModelsError, RuntimeError):
    """A weight file is missing, corrupt, of the wrong kind or fails its hash."""


# ---------------------------------------------------------------- hashing


def sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- atomic writes


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``.

    A crash half-way leaves the previous file intact (rename is atomic).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; weights and manifests are meant to be read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_tensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike,
                 metadata: dict[str, str] | None = None) -> None:
    """Atomically save a flat dict of tensors as safetensors."""
    from safetensors.torch import save

    clean = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write_bytes(path, save(clean, metadata=metadata or {}))


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{Path(path).name}: not a readable safetensors file ({e})") from e


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu"
                 ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weight file not found: {path}")
    if path.suffix != ".safetensors":
        raise WeightsError(f"{path.name}: only .safetensors files are loaded (no pickle)")
    meta = read_metadata(path)
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path.name}: corrupt safetensors file ({e})") from e
    return tensors, meta


# ---------------------------------------------------------------- one network per file


def save_network(module: torch.nn.Module, path: str | os.PathLike, *, family: str,
                 network: str, config: Any, extra: dict[str, Any] | None = None) -> str:
    """Save ``module``'s state_dict with its config in the header. Returns the sha256."""
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    meta = {"family": family, "network": network, "config": json.dumps(cfg)}
    if extra:
        meta["extra"] = json.dumps(extra)
    save_tensors(module.state_dict(), path, meta)
    return sha256(path)


def _config(path: Path, meta: dict[str, str], config_cls):
    try:
        cfg_dict = json.loads(meta["config"])
        fields = {f.name for f in dataclasses.fields(config_cls)}
        return config_cls(**{k: v for k, v in cfg_dict.items() if k in fields})
    except (KeyError, TypeError, ValueError) as e:
        raise WeightsError(f"{path.name}: bad config in header ({e})") from e


def read_config(path: str | os.PathLike, config_cls):
    """The config in a weight file's header (fields the class does not know are left out; missing ones
    take the class's defaults), without reading its tensors."""
    path = Path(path)
    return _config(path, read_metadata(path), config_cls)


def load_network(path: str | os.PathLike, build, config_cls, *, family: str, network: str,
                 device: str | torch.device = "cpu", manifest: dict | None = None):
    """Rebuild a network from a file: ``build(config_cls(**header_config))``, then load weights.

    Checks the sha256 against ``manifest`` when one is given (the shipped files).
    Returns ``(module, config, extra)``.
    """
    path = Path(path)
    if manifest is not None:
        verify(path, manifest)
    tensors, meta = load_tensors(path, device)
    if meta.get("family") != family or meta.get("network") != network:
        raise WeightsError(f"{path.name}: holds {meta.get('family')}/{meta.get('network')}, "
                           f"expected {family}/{network}")
    cfg = _config(path, meta, config_cls)
    module = build(cfg)
    try:
        module.load_state_dict(tensors)
    except RuntimeError as e:
        raise WeightsError(f"{path.name}: weights do not fit the network in its config ({e})") from e
    module.to(device).eval()
    extra = json.loads(meta["extra"]) if "extra" in meta else {}
    return module, cfg, extra


def save_g_and_d(G: torch.nn.Module, D: torch.nn.Module, config: Any, out_dir: str | os.PathLike, *,
                 family: str, files: dict[str, str]) -> dict[str, str]:
    """Save a generator/discriminator pair as ``files["G"]`` and ``files["D"]``. Returns {name: sha256}."""
    out_dir = Path(out_dir)
    return {files[n]: save_network(net, out_dir / files[n], family=family, network=n, config=config)
            for n, net in (("G", G), ("D", D))}


def load_g_and_d(store: "WeightStore", *, family: str, files: dict[str, str], generator, discriminator,
                 config_cls, device="cpu", with_D: bool = True):
    """Load a G (and optionally its D) saved by ``save_g_and_d``, frozen, in eval mode: (G, D | None, cfg)."""
    man = store.manifest_for_check()
    G, cfg, _ = load_network(store.path(files["G"]), generator, config_cls, family=family, network="G",
                             device=device, manifest=man)
    D = None
    if with_D:
        D, _, _ = load_network(store.path(files["D"]), discriminator, config_cls, family=family,
                               network="D", device=device, manifest=man)
        D.requires_grad_(False)
    G.requires_grad_(False)
    cpu_layout(device, G, D)
    return G, D, cfg


def cpu_layout(device, *nets) -> None:
    """Channels-last convolution weights for inference on a CPU: oneDNN's convolutions run faster in
    that layout (``bench/latency.py``); outputs agree to ~1e-6. Saving is unaffected (tensors are
    made contiguous)."""
    if torch.device(device).type == "cpu":
        for net in nets:
            if net is not None:
                net.to(memory_format=torch.channels_last)


# ---------------------------------------------------------------- manifest


def manifest_path(weights_dir: str | os.PathLike = DEFAULT_DIR) -> Path:
    return Path(weights_dir) / MANIFEST


def read_manifest(weights_dir: str | os.PathLike = DEFAULT_DIR) -> dict:
    p = manifest_path(weights_dir)
    if not p.is_file():
        return {"files": {}}
    try:
        data = json.loads(p.read_text())
    except ValueError as e:
        raise WeightsError(f"{p}: manifest is not valid JSON ({e})") from e
    data.setdefault("files", {})
    return data


@contextlib.contextmanager
def _locked(path: Path):
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_manifest(weights_dir: str | os.PathLike, name: str, **fields: Any) -> dict:
    """Merge ``fields`` into the entry for file ``name`` (and refresh its sha256).

    Used by the training CLI (data, steps, command) and the evaluation CLI
    (metrics) -- never by hand.  Safe against concurrent writers (file lock).
    """
    weights_dir = Path(weights_dir)
    with _locked(manifest_path(weights_dir)):
        man = read_manifest(weights_dir)
        entry = man["files"].setdefault(name, {})
        for k, v in fields.items():
            if isinstance(v, dict) and isinstance(entry.get(k), dict):
                entry[k].update(v)
            else:
                entry[k] = v
        f = weights_dir / name
        if f.is_file():
            entry["sha256"] = sha256(f)
            entry["bytes"] = f.stat().st_size
        man["files"] = dict(sorted(man["files"].items()))
        atomic_write_bytes(manifest_path(weights_dir),
                           (json.dumps(man, indent=2, sort_keys=False) + "\n").encode())
    return entry


def verify(path: str | os.PathLike, manifest: dict) -> None:
    """Refuse a file whose sha256 differs from its manifest entry."""
    path = Path(path)
    entry = manifest.get("files", {}).get(path.name)
    if entry is None or "sha256" not in entry:
        raise WeightsError(f"{path.name}: not listed in the manifest, refusing to load it")
    if not path.is_file():
        raise WeightsError(f"weight file not found: {path}")
    got = sha256(path)
    if got != entry["sha256"]:
        raise WeightsError(f"{path.name}: sha256 {got[:12]}… does not match the manifest "
                           f"({entry['sha256'][:12]}…): the file is corrupt or was replaced. "
                           "Restore it (git checkout weights/) or retrain it.")


# ---------------------------------------------------------------- where files come from


class WeightStore:
    """Finds weight files: a local folder (default ``weights/``) or, opt-in, a hub repo.

    ``store.path(name)`` returns a verified local path or raises WeightsError.
    """

    def __init__(self, weights_dir: str | os.PathLike = DEFAULT_DIR, hub_repo: str | None = None,
                 revision: str | None = None, verify_hashes: bool = True):
        self.dir = Path(weights_dir)
        self.hub_repo = hub_repo
        self.revision = revision
        self.verify_hashes = verify_hashes
        self._manifest: dict | None = None

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            if self.hub_repo:
                self._manifest = json.loads(Path(self._hub(MANIFEST)).read_text())
            else:
                self._manifest = read_manifest(self.dir)
        return self._manifest

    def _hub(self, filename: str) -> str:
        try:
            from huggingface_hub import hf_hub_download
        except ImportError as e:  # pragma: no cover
            raise WeightsError("huggingface_hub is not installed") from e
        try:
            return hf_hub_download(repo_id=self.hub_repo, filename=filename, revision=self.revision)
        except Exception as e:  # hub errors are many and vary by version
            raise WeightsError(f"could not get {filename} from hub repo {self.hub_repo}: {e}") from e

    def path(self, name: str) -> Path:
        p = Path(self._hub(name)) if self.hub_repo else self.dir / name
        if not p.is_file():
            raise WeightsError(f"weight file not found: {p} (train it with the command in "
                               "weights/manifest.json, or pass --weights DIR)")
        if self.verify_hashes:
            verify(p, self.manifest)
        return p

    def manifest_for_check(self) -> dict | None:
        return self.manifest if self.verify_hashes else None


# ---------------------------------------------------------------- training checkpoints


def flatten_state(prefix: str, state: dict, tensors: dict, meta: dict) -> None:
    """Flatten a (possibly nested) state dict: tensors into ``tensors``, the rest into ``meta``."""
    for k, v in state.items():
        key = f"{prefix}.{k}"
        if isinstance(v, torch.Tensor):
            tensors[key] = v
        elif isinstance(v, dict):
            flatten_state(key, v, tensors, meta)
        else:
            meta[key] = v


def unflatten_state(prefix: str, tensors: dict, meta: dict) -> dict:
    out: dict = {}
    pre = prefix + "."
    for src in (tensors, meta):
        for k, v in src.items():
            if not k.startswith(pre):
                continue
            parts = k[len(pre):].split(".")
            d = out
            for p in parts[:-1]:
                d = d.setdefault(p, {})
            d[parts[-1]] = v
    return out


def _int_keys(d):
    """Optimizer state dicts key parameter states by int; JSON made them strings."""
    if isinstance(d, dict):
        return {(int(k) if isinstance(k, str) and k.isdigit() else k): _int_keys(v) for k, v in d.items()}
    return d


def save_checkpoint(path: str | os.PathLike, *, modules: dict[str, torch.nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], step: int,
                    info: dict[str, Any] | None = None) -> None:
    """One safetensors file with every module and optimizer state; written atomically."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    for name, m in modules.items():
        for k, v in m.state_dict().items():
            tensors[f"module.{name}.{k}"] = v
    for name, opt in optimizers.items():
        sd = opt.state_dict()
        flatten_state(f"optim.{name}.state", sd["state"], tensors, meta)
        meta[f"optim.{name}.param_groups"] = sd["param_groups"]
    header = {"step": str(step), "info": json.dumps(info or {}), "rest": json.dumps(meta)}
    save_tensors(tensors, path, header)


def load_checkpoint(path: str | os.PathLike, *, modules: dict[str, torch.nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], device="cpu") -> tuple[int, dict]:
    tensors, header = load_tensors(path, device)
    try:
        rest = json.loads(header["rest"])
        step = int(header["step"])
        info = json.loads(header.get("info", "{}"))
    except (KeyError, ValueError) as e:
        raise WeightsError(f"{Path(path).name}: not a training checkpoint ({e})") from e
    for name, m in modules.items():
        pre = f"module.{name}."
        m.load_state_dict({k[len(pre):]: v for k, v in tensors.items() if k.startswith(pre)})
    for name, opt in optimizers.items():
        state = unflatten_state(f"optim.{name}.state", tensors, rest)
        opt.load_state_dict({"state": _int_keys(state), "param_groups": rest[f"optim.{name}.param_groups"]})
    return step, info


__all__ = [
    "WeightsError", "WeightStore", "sha256", "save_tensors", "load_tensors", "read_metadata",
    "save_network", "load_network", "cpu_layout", "read_manifest", "update_manifest", "verify",
    "save_checkpoint", "load_checkpoint", "atomic_write_bytes", "save_file", "DEFAULT_DIR",
]
