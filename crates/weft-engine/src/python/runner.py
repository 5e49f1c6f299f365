# Weft's Python worker: one per child process, reused across calls.
#
# Protocol: JSON lines. Requests come on stdin, one per line:
#   {"source": "/abs/tool.py", "function": "name" | null, "inputs": {...},
#    "connections": {"param": {"type": "custom", "name": "...", "configs": {...}, "secrets": {...}}},
#    "flow_dir": "/abs/dir"}
# Replies go on a private copy of fd 1, taken before anything else runs; fd 1 itself is
# pointed at fd 2 and sys.stdout / sys.stderr are swapped per call, so the user's print()s
# never reach the protocol. The first line is {"ready": true, "pid": N}.
# Secrets arrive only in requests on stdin (never argv, environment or files).
#
# The promptflow modules below stand in for Prompt flow's (its @tool decorator and
# connection classes, attribute names as in microsoft/promptflow's
# docs/how-to-guides/manage-connections.md: api_key, api_base, api_type, api_version,
# endpoint; CustomConnection's configs and secrets), so a tool file imports unchanged.
import asyncio
import importlib.util
import inspect
import io
import json
import os
import sys
import traceback
import types

# No __pycache__ written beside the user's files (or into a repository's examples/).
sys.dont_write_bytecode = True

_proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
# Requests are read from a private copy of fd 0 too: the user's input() and the processes it
# starts read an empty stdin, never the next request (os.dup's copies are not inherited).
_requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
sys.stdin = open(os.devnull, encoding="utf-8")


def tool(func=None, **_kwargs):
    def mark(f):
        f.__weft_tool__ = True
        return f

    return mark(func) if callable(func) else mark


class _Connection:
    _defaults = {}

    def __init__(self, name=None, **fields):
        self.name = name
        for key, value in self._defaults.items():
            setattr(self, key, value)
        for key, value in fields.items():
            setattr(self, key, value)

    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key, default=None):
        return getattr(self, key, default)

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class AzureOpenAIConnection(_Connection):
    _defaults = {"api_key": None, "api_base": None, "api_type": "azure", "api_version": None}


class OpenAIConnection(_Connection):
    _defaults = {"api_key": None, "organization": None, "base_url": None}


class ServerlessConnection(_Connection):
    _defaults = {"api_key": None, "api_base": None}


class CognitiveSearchConnection(_Connection):
    _defaults = {"api_key": None, "api_base": None, "api_version": None}


class SerpConnection(_Connection):
    _defaults = {"api_key": None}


class AzureContentSafetyConnection(_Connection):
    _defaults = {"api_key": None, "endpoint": None, "api_version": None, "api_type": "Content Safety"}


class CustomConnection(dict):
    """configs and secrets, read as attributes (conn.api_key) or keys (conn["api_key"])."""

    def __init__(self, configs=None, secrets=None, name=None):
        self.configs = dict(configs or {})
        self.secrets = dict(secrets or {})
        self.name = name
        super().__init__({**self.configs, **self.secrets})

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __repr__(self):
        return f"CustomConnection(name={self.name!r})"


def _install_promptflow():
    connections = types.ModuleType("promptflow.connections")
    for cls in (
        CustomConnection,
        AzureOpenAIConnection,
        OpenAIConnection,
        ServerlessConnection,
        CognitiveSearchConnection,
        SerpConnection,
        AzureContentSafetyConnection,
    ):
        setattr(connections, cls.__name__, cls)
    core = types.ModuleType("promptflow.core")
    core.tool = tool
    root = types.ModuleType("promptflow")
    root.__path__ = []
    root.tool = tool
    root.core = core
    root.connections = connections
    sys.modules.update(
        {"promptflow": root, "promptflow.core": core, "promptflow.connections": connections}
    )


_CLASSES = {
    "custom": None,
    "azure_open_ai": AzureOpenAIConnection,
    "open_ai": OpenAIConnection,
    "serverless": ServerlessConnection,
    "cognitive_search": CognitiveSearchConnection,
    "serp": SerpConnection,
    "azure_content_safety": AzureContentSafetyConnection,
}


def _connection(spec):
    kind = spec.get("type")
    if kind == "custom":
        return CustomConnection(spec.get("configs"), spec.get("secrets"), spec.get("name"))
    cls = _CLASSES.get(kind) or _Connection
    return cls(name=spec.get("name"), **spec.get("fields", {}))


_modules = {}


def _load(path):
    stamp = os.stat(path).st_mtime_ns
    known = _modules.get(path)
    if known and known[0] == stamp:
        return known[1]
    name = "weft_tool_" + str(abs(hash(path)))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _modules[path] = (stamp, module)
    return module


def _function(module, source, name):
    if name:
        found = getattr(module, name, None)
        if not callable(found):
            raise _Usage(f"`{source}` has no function `{name}`")
        return found
    tools = [
        f
        for f in vars(module).values()
        if callable(f) and getattr(f, "__weft_tool__", False) and getattr(f, "__module__", None) == module.__name__
    ]
    if len(tools) != 1:
        names = ", ".join(f.__name__ for f in tools)
        raise _Usage(
            f"`{source}` has {len(tools)} @tool functions{' (' + names + ')' if names else ''}; "
            "decorate exactly one with @tool, or name it in `function`"
        )
    return tools[0]


class _Usage(Exception):
    pass


def _user_frame(exc, flow_dir):
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if os.path.abspath(f.filename).startswith(flow_dir)]
    frame = (mine or frames or [None])[-1]
    return (frame.filename, frame.lineno) if frame else (None, None)


def _call(request):
    flow_dir = os.path.abspath(request["flow_dir"])
    if flow_dir not in sys.path:
        sys.path.insert(0, flow_dir)
    source = request["source"]
    module = _load(source)
    func = _function(module, os.path.relpath(source, flow_dir), request.get("function"))
    kwargs = dict(request.get("inputs") or {})
    for param, spec in (request.get("connections") or {}).items():
        kwargs[param] = _connection(spec)
    result = func(**kwargs)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    try:
        return json.loads(json.dumps(result, default=_not_json))
    except (TypeError, ValueError) as exc:
        raise _Usage(f"`{func.__name__}` returned {exc}; return a dict, list, text, number, bool or None") from None


def _not_json(value):
    raise TypeError(f"a {type(value).__name__}, which is not JSON")


def main():
    _install_promptflow()
    _proto.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    for line in _requests:
        if not line.strip():
            continue
        request = json.loads(line)
        log = io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log
        try:
            reply = {"ok": True, "output": _call(request)}
        except _Usage as exc:
            reply = {"ok": False, "error": {"type": "usage", "message": str(exc)}}
        except BaseException as exc:  # the user's code: report anything, keep serving
            file, line_no = _user_frame(exc, os.path.abspath(request.get("flow_dir", ".")))
            error = {"type": type(exc).__name__, "message": str(exc), "file": file, "line": line_no}
            if isinstance(exc, ModuleNotFoundError):
                error["module"] = (exc.name or "").split(".")[0]
            reply = {"ok": False, "error": error}
        finally:
            sys.stdout, sys.stderr = saved
        reply["log"] = log.getvalue()
        reply["pid"] = os.getpid()
        _proto.write(json.dumps(reply) + "\n")


main()
