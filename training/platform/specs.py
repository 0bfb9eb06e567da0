"""Model specs by name: ``get_spec("recommender")``.

The three built-in models are imported lazily from ``BUILTIN`` (each package may be missing
while it is being written; asking for it then says so). ``register_spec`` adds or replaces one,
e.g. for an experiment or a test.
"""

from __future__ import annotations

import importlib
import threading

from training.platform.spec import ModelSpec

BUILTIN: dict[str, str] = {
    "triage": "training.triage.spec:TriageSpec",
    "eta": "training.eta.spec:EtaSpec",
    "eta-olist": "training.eta.spec:OlistEtaSpec",  # registered apart: never the served ETA
    "recommender": "training.recommender.spec:RecommenderSpec",
}

_specs: dict[str, ModelSpec] = {}
_lock = threading.Lock()


class SpecNotAvailable(LookupError):
    """A model name that is unknown, or whose spec cannot be imported."""


def register_spec(spec: ModelSpec) -> ModelSpec:
    """Make ``spec`` the one ``get_spec(spec.name)`` returns."""
    missing = [a for a in ("name", "registered_name", "primary_metric", "greater_is_better")
               if not hasattr(spec, a)]
    if missing:
        raise TypeError(f"not a ModelSpec: missing {', '.join(missing)}")
    with _lock:
        _specs[spec.name] = spec
    return spec


def unregister_spec(name: str) -> None:
    with _lock:
        _specs.pop(name, None)


def available() -> list[str]:
    """Every name ``get_spec`` may answer (built-in or registered)."""
    with _lock:
        return sorted(set(BUILTIN) | set(_specs))


def get_spec(name: str) -> ModelSpec:
    with _lock:
        if name in _specs:
            return _specs[name]
    target = BUILTIN.get(name)
    if target is None:
        raise SpecNotAvailable(
            f"unknown model {name!r}; known models: {', '.join(available())}")
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise SpecNotAvailable(
                f"model {name!r} is not available yet: its spec module {module_name} does not "
                f"exist (expected class {cls_name} implementing training.platform.spec."
                f"ModelSpec)") from exc
        raise SpecNotAvailable(
            f"model {name!r}: importing {module_name} failed - {exc}") from exc
    except ImportError as exc:
        raise SpecNotAvailable(
            f"model {name!r}: importing {module_name} failed - {exc}") from exc
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise SpecNotAvailable(f"model {name!r}: {module_name} has no {cls_name}")
    spec = cls()
    with _lock:
        _specs.setdefault(name, spec)
        return _specs[name]
