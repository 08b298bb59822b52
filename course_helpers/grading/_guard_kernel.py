"""The grader's guard, inside a learner's kernel. Never imported: the grader sends this source.

The grader executes this file with ``ARGS`` set, in a namespace of its own, before the first
learner cell. It records what a grade depends on (the functions that publish it, IPython's cell
runner, transformers and event hooks, the Python functions the checks call), then waits in an
audit hook (``sys.addaudithook``: Python can neither list nor remove one) for the grading cell's
one ``sys.audit(EVENT)``. Then it imports the checks through a loader that runs only bytes whose
hashes the grader sent, seals them, grades, lists every difference from what it recorded and
every forbidden event it saw, and publishes the result signed with a key no cell ever contains.
So a forged, altered, repeated or missing grade, and the tricks listed, all read ``tampered``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import importlib
import importlib.machinery
import importlib.util
import json
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# Module-level functions and classes whose replacement would change what a check sees or how the
# grade travels: the first group by their module namespace, the second with their classes' methods.
_FUNCTION_MODULES = (
    "builtins",
    "sys",
    "time",
    "threading",
    "json",
    "hmac",
    "hashlib",
    "types",
    "functools",
    "importlib",
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "importlib.util",
    "importlib.machinery",
    "asyncio",
)
_CLASS_MODULES = (
    "IPython.display",
    "IPython.core.display_functions",
    "IPython.core.displaypub",
    "IPython.core.interactiveshell",
    "IPython.core.events",
    "IPython.core.inputtransformer2",
    "IPython.core.compilerop",
    "ipykernel.zmqshell",
    "ipykernel.ipkernel",
    "ipykernel.kernelbase",
    "ipykernel.iostream",
    "ipykernel.compiler",
    "jupyter_client.session",
    "jupyter_client.jsonutil",
    "zmq.sugar.socket",
)
# Builtins IPython itself rebinds around each cell (its builtin trap).
_TRAPPED_BUILTINS = frozenset({"get_ipython", "exit", "quit", "display", "_", "__", "___"})
# Event callbacks libraries register on their own (inline plots, widgets): not the learner's.
_TRUSTED_CALLBACK_MODULES = (
    "matplotlib",
    "matplotlib_inline",
    "ipywidgets",
    "IPython",
    "ipykernel",
)
# nest_asyncio's patch (notebooks apply it to call asyncio.run inside Jupyter): its functions, and
# the pure-Python Future and Task it puts in place of the C ones. Not a learner's forgery.
_TRUSTED_PATCHERS = ("nest_asyncio", "nest_asyncio2")
_TRUSTED_SWAPS = {("asyncio", "Future"), ("asyncio", "Task")}
_TRUSTED = ("trusted",)
_FUNCTION_SETTERS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
_FORBIDDEN_EVENTS = {
    "gc.get_objects": "searched the interpreter's objects (gc.get_objects)",
    "gc.get_referrers": "searched the interpreter's objects (gc.get_referrers)",
    "gc.get_referents": "searched the interpreter's objects (gc.get_referents)",
    "sys.addaudithook": "added an audit hook",
    "sys._current_frames": "looked into other threads' frames (sys._current_frames)",
}


def _token(value: Any) -> Any:
    """What identifies a callable: the object, and for a function its code and defaults."""
    if isinstance(value, types.MethodType):
        return ("method", id(value.__self__), _token(value.__func__))
    if isinstance(value, types.FunctionType):
        code = value.__code__
        return ("function", id(value), id(code), id(value.__defaults__), id(value.__kwdefaults__))
    if isinstance(value, (classmethod, staticmethod)):
        return ("wrapped", id(value), _token(value.__func__))
    if isinstance(value, property):
        return ("property", id(value), _token(value.fget), _token(value.fset))
    if isinstance(value, functools.partial):
        return ("partial", id(value), _token(value.func))
    return ("object", id(value))


def _callable_like(value: Any) -> bool:
    return callable(value) or isinstance(value, (classmethod, staticmethod, property))


def _namespace(found: dict[str, Any], label: str, namespace: Mapping[str, Any]) -> None:
    for name, value in list(namespace.items()):
        if _callable_like(value):
            found[f"{label}.{name}"] = _token(value)


def _trusted_callback(callback: Any) -> bool:
    function = getattr(callback, "__func__", callback)
    module = str(getattr(function, "__module__", "") or "")
    return module.split(".")[0] in _TRUSTED_CALLBACK_MODULES


def _instances(shell: Any) -> Iterator[tuple[str, Any]]:
    """The objects a grade passes through on its way out, and the cell runner's parts."""
    kernel = getattr(shell, "kernel", None)
    display_pub = getattr(shell, "display_pub", None)
    for label, value in (
        ("shell", shell),
        ("shell.kernel", kernel),
        ("shell.kernel.session", getattr(kernel, "session", None)),
        ("shell.kernel.iopub_socket", getattr(kernel, "iopub_socket", None)),
        ("shell.display_pub", display_pub),
        ("shell.display_pub.session", getattr(display_pub, "session", None)),
        ("shell.display_pub.pub_socket", getattr(display_pub, "pub_socket", None)),
        ("shell.displayhook", getattr(shell, "displayhook", None)),
        ("shell.compile", getattr(shell, "compile", None)),
        ("shell.input_transformer_manager", getattr(shell, "input_transformer_manager", None)),
        ("shell.events", getattr(shell, "events", None)),
    ):
        if value is not None:
            yield label, value


def surface(shell: Any) -> dict[str, Any]:
    """A fingerprint of everything whose replacement could change a grade or its way out."""
    found: dict[str, Any] = {}
    for name in _FUNCTION_MODULES + _CLASS_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        namespace = {
            key: value
            for key, value in vars(module).items()
            if not (name == "builtins" and key in _TRAPPED_BUILTINS)
        }
        _namespace(found, name, namespace)
        for key, value in namespace.items():
            if _trusted_patch(name, key, value):
                found[f"{name}.{key}"] = _TRUSTED
        if name in _CLASS_MODULES:
            for key, value in namespace.items():
                if isinstance(value, type) and value.__module__ == name:
                    _namespace(found, f"{name}.{key}", vars(value))
    for label, value in _instances(shell):
        found[label] = ("instance", id(value), id(type(value)))
        _namespace(found, label, getattr(value, "__dict__", {}))
        _namespace(found, label, getattr(value, "_trait_values", {}))
    manager = getattr(shell, "input_transformer_manager", None)
    for label, items in (
        ("input_transformers_cleanup", getattr(shell, "input_transformers_cleanup", None)),
        ("input_transformers_post", getattr(shell, "input_transformers_post", None)),
        ("ast_transformers", getattr(shell, "ast_transformers", None)),
        ("cleanup_transforms", getattr(manager, "cleanup_transforms", None)),
        ("line_transforms", getattr(manager, "line_transforms", None)),
        ("token_transformers", getattr(manager, "token_transformers", None)),
    ):
        if items is not None:
            found[f"shell.{label}"] = tuple(_token(item) for item in items)
    callbacks = getattr(getattr(shell, "events", None), "callbacks", {}) or {}
    for event, registered in callbacks.items():
        found[f"shell.events[{event}]"] = tuple(
            _token(item) for item in registered if not _trusted_callback(item)
        )
    found["sys.gettrace()"] = _token(sys.gettrace())
    found["sys.getprofile()"] = _token(sys.getprofile())
    found["threading.settrace"] = _token(getattr(threading, "_trace_hook", None))
    found["threading.setprofile"] = _token(getattr(threading, "_profile_hook", None))
    found["sys.meta_path[0]"] = _token(sys.meta_path[0] if sys.meta_path else None)
    return found


def _trusted_patch(module: str, name: str, value: Any) -> bool:
    origin = str(getattr(value, "__module__", "") or "")
    if origin.split(".")[0] in _TRUSTED_PATCHERS:
        return True
    return (module, name) in _TRUSTED_SWAPS and origin.startswith(module + ".")


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The names recorded ``before`` that are now missing or different (a trusted patch aside)."""
    return sorted(
        name for name, value in before.items() if after.get(name) not in (value, _TRUSTED)
    )


def _describe(changed: list[str], limit: int = 6) -> str:
    shown = ", ".join(changed[:limit])
    return shown + (f" and {len(changed) - limit} more" if len(changed) > limit else "")


class _Grader:
    """State the audit hook closes over: nothing here is reachable from a learner's namespace."""

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.key = bytes.fromhex(args["key"])
        self.event = str(args["event"])
        self.nonce = str(args["nonce"])
        self.root = str(args["root"])
        self.package = str(args["package"])
        self.checks_module = str(args["checks_module"])
        self.exercises = [str(item) for item in args["exercises"]]
        self.hashes: dict[str, str] = dict(args["hashes"])
        self.mime = str(args["mime"])
        self.problems: list[str] = []
        self.requests = 0
        self.changed: list[str] = []
        self.sealed_types: set[int] = set()
        self.sealed_globals: set[int] = set()
        self.module_prints: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        from IPython import get_ipython
        from IPython.core.display_functions import publish_display_data

        self.shell = get_ipython()
        self.publish: Callable[..., None] = publish_display_data
        self.dumps = json.dumps
        self.digest = hmac.new
        self.import_module = importlib.import_module
        self.finder = _VerifiedFinder(self)
        self.baseline = surface(self.shell)

    def bytecode_name(self, path: str) -> str:
        """``path`` relative to the private copy's package folder ("" when outside it)."""
        base = f"{self.root}/{self.package}/"
        return path[len(base) :] if path.startswith(base) and ".." not in path else ""

    def flag(self, problem: str) -> None:
        with self.lock:
            if problem not in self.problems:
                self.problems.append(problem)

    # --- the audit hook -------------------------------------------------------------------
    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "object.__setattr__":
            self._attribute_set(args)
        elif event == self.event:
            self._grade()
        elif event in _FORBIDDEN_EVENTS:
            self.flag(f"the notebook {_FORBIDDEN_EVENTS[event]}")

    def _attribute_set(self, args: tuple[Any, ...]) -> None:
        target, name = args[0], args[1]
        if id(target) in self.sealed_types:
            self.flag(f"a class of the checks was changed ({target.__qualname__}.{name})")
        elif (
            isinstance(target, types.FunctionType)
            and name in _FUNCTION_SETTERS
            and id(target.__globals__) in self.sealed_globals
        ):
            self.flag(f"a function of the checks was changed ({target.__qualname__}.{name})")

    # --- the checks, loaded from verified bytes and sealed --------------------------------
    def seal(self, module: types.ModuleType) -> None:
        """Record what ``module`` defines; any later rebinding is reported."""
        self.sealed_globals.add(id(vars(module)))
        prints: dict[str, Any] = {}
        for name, value in list(vars(module).items()):
            if _callable_like(value):
                prints[name] = _token(value)
            if isinstance(value, type) and value.__module__ == module.__name__:
                self.sealed_types.add(id(value))
                for key, member in vars(value).items():
                    if _callable_like(member):
                        prints[f"{name}.{key}"] = _token(member)
        self.module_prints[module.__name__] = prints
        module.__class__ = _sealed_module_class(self)

    def module_changes(self) -> list[str]:
        changed: list[str] = []
        for name, prints in self.module_prints.items():
            module = sys.modules.get(name)
            if module is None:
                continue
            now: dict[str, Any] = {}
            for key, value in list(vars(module).items()):
                if _callable_like(value):
                    now[key] = _token(value)
                if isinstance(value, type) and value.__module__ == name:
                    for member_name, member in vars(value).items():
                        if _callable_like(member):
                            now[f"{key}.{member_name}"] = _token(member)
            changed.extend(f"{name}.{item}" for item in differences(prints, now))
        return changed

    def _load_checks(self) -> Any:
        sys.dont_write_bytecode = True
        package = self.package
        _stop_http_mocks(package)
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _VerifiedFinder)]
        sys.meta_path.insert(0, self.finder)
        if self.root not in sys.path:
            sys.path.insert(0, self.root)
        importlib.invalidate_caches()
        return self.import_module(self.checks_module)

    # --- grading --------------------------------------------------------------------------
    def _grade(self) -> None:
        with self.lock:
            self.requests += 1
            repeated = self.requests > 1
        if repeated:
            self.flag("the grading was asked for more than once (learner code called it)")
            self._publish({"exercises": {}, "origin": ""})
            return
        self.changed = differences(self.baseline, surface(self.shell))
        if self.changed:
            self.flag(f"the notebook replaced what the grader relies on: {_describe(self.changed)}")
        try:
            self._run_checks()
        except Exception:
            if not self.problems:
                raise  # the grader's own failure, reported as the grading cell's error
            self._publish({"exercises": {}, "origin": ""})  # tampering made it fail

    def _run_checks(self) -> None:
        checks = self._load_checks()
        exercises = getattr(checks, "EXERCISES", {})
        registry_before = _registry_token(exercises)
        result = checks.grade_namespace(self.shell.user_ns, self.exercises)
        if _registry_token(exercises) != registry_before:
            self.flag("the checks' list of exercises or checks was changed while they ran")
        moved = self.module_changes()
        if moved:
            self.flag(f"the checks were changed while they ran: {_describe(moved)}")
        after = surface(self.shell)
        if after.pop("sys.meta_path[0]", None) != _token(self.finder):
            self.flag("an import hook was put before the grader's while the checks ran")
        changed = [
            name
            for name in differences({k: v for k, v in self.baseline.items() if k in after}, after)
            if name not in self.changed
        ]
        if changed:
            self.flag(f"the checks' run changed what the grader relies on: {_describe(changed)}")
        self._publish({**result, "origin": str(getattr(checks, "__file__", ""))})

    def _publish(self, result: Mapping[str, Any]) -> None:
        with self.lock:
            problems = list(self.problems)
        body = self.dumps(
            {**result, "nonce": self.nonce, "tampered": problems},
            sort_keys=True,
            ensure_ascii=True,
            default=str,
        )
        mac = self.digest(self.key, body.encode(), hashlib.sha256).hexdigest()
        self.publish({self.mime: {"nonce": self.nonce, "body": body, "mac": mac}})


def _sealed_module_class(grader: _Grader) -> type[types.ModuleType]:
    class SealedModule(types.ModuleType):
        """A checks module that reports any attribute rebound on it (a submodule import aside)."""

        def __setattr__(self, name: str, value: Any) -> None:
            submodule = isinstance(value, types.ModuleType) and (
                value.__name__ == f"{self.__name__}.{name}"
            )
            if not submodule:
                grader.flag(f"a function of the checks was replaced ({self.__name__}.{name})")
            super().__setattr__(name, value)

        def __delattr__(self, name: str) -> None:
            grader.flag(f"a function of the checks was deleted ({self.__name__}.{name})")
            super().__delattr__(name)

    return SealedModule


def _registry_token(exercises: Any) -> Any:
    try:
        return tuple(
            (name, id(item), tuple((id(c), _token(c.fn), c.timeout) for c in item.checks))
            for name, item in exercises.items()
        )
    except Exception:  # not the shape the course defines: compared by identity only
        return id(exercises)


def _stop_http_mocks(package: str) -> None:
    """Stop the HTTP mocks the notebook left running (the checks start their own), and forget
    the mocker classes registered under the package's names: respx allows one class per name,
    and the verified copy registers its own (never one the notebook's imports defined)."""
    mocks = sys.modules.get("respx.mocks")
    if mocks is None:
        return
    for mocker in list(mocks.Mocker.registry.values()):
        for router in list(mocker.routers):
            with contextlib.suppress(Exception):
                router.stop(quiet=True)
    registry = getattr(mocks.Mocker, "_Mocker__registry", None)  # behind a read-only view
    if isinstance(registry, dict):
        for name in [name for name in registry if str(name).startswith(f"{package}.")]:
            del registry[name]


class _VerifiedLoader(importlib.machinery.SourceFileLoader):
    """Runs a module of the checks only if its bytes hash to what the grader sent; seals it."""

    def __init__(self, fullname: str, path: str, relative: str, grader: _Grader) -> None:
        super().__init__(fullname, path)
        self.relative = relative
        self.grader = grader

    def get_data(self, path: str) -> bytes:
        # The module's source, or the bytecode the grader compiled for it (hashed like the
        # source; Python then checks it against the source's hash too). Nothing else is read.
        relative = self.relative
        if path != self.path:
            relative = self.grader.bytecode_name(path)
            if relative not in self.grader.hashes:
                raise OSError(f"{path} is not one of the grader's checks")
        with open(path, "rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != self.grader.hashes[relative]:
            problem = f"the checks on disk were modified ({relative})"
            self.grader.flag(problem)
            raise ImportError(problem)
        return data

    def exec_module(self, module: types.ModuleType) -> None:
        super().exec_module(module)
        self.grader.seal(module)


class _VerifiedFinder:
    """First on ``sys.meta_path`` while grading: the checks' package comes from verified bytes."""

    def __init__(self, grader: _Grader) -> None:
        self.grader = grader

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        package = self.grader.package
        if fullname != package and not fullname.startswith(package + "."):
            return None
        inner = "/".join(fullname.split(".")[1:])
        init = f"{inner}/__init__.py" if inner else "__init__.py"
        if init in self.grader.hashes:
            relative, locations = init, [self._path(inner)]
        elif f"{inner}.py" in self.grader.hashes:
            relative, locations = f"{inner}.py", None
        else:
            return None
        file = self._path(relative)
        loader = _VerifiedLoader(fullname, file, relative, self.grader)
        return importlib.util.spec_from_file_location(
            fullname, file, loader=loader, submodule_search_locations=locations
        )

    def _path(self, relative: str) -> str:
        base = f"{self.grader.root}/{self.grader.package}"
        return f"{base}/{relative}" if relative else base


def install(args: Mapping[str, Any]) -> None:
    """Record the baseline, start listening for the grading event, forget the request's text."""
    grader = _Grader(args)
    sys.addaudithook(grader.hook)
    _forget(str(args["key"]))


def _forget(secret: str) -> None:
    """Drop the cached source of the request that carried ``secret`` (IPython keeps cells'
    text in ``linecache`` for tracebacks, where any later cell could read it)."""
    import linecache

    shell = _shell()
    names = getattr(getattr(shell, "compile", None), "_filename_map", {})
    for name, entry in list(linecache.cache.items()):
        lines = entry[2] if len(entry) > 2 else None
        if lines and any(secret in line for line in lines):
            del linecache.cache[name]
            if isinstance(names, dict):
                names.pop(name, None)


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


if "ARGS" in globals():  # sent by the grader: install, and leave no key in this namespace
    install(globals().pop("ARGS"))
