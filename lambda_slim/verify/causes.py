"""Why a child run failed, read from its output, and the standard fix when there is one.

A failure of the import check or a smoke script is one of: a shared library the loader (or
ctypes) could not find, a write into the read-only layer (or the home folder Lambda does not
give the function), a timeout, or an ordinary Python error (which the differential diagnosis
then attributes to pruning or not). A package that writes next to its own files has a
setting that moves the writes under ``/tmp``, the only writable place on Lambda; the cause
names it (:data:`WRITABLE_SETTINGS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

MISSING_LIBRARY = "missing-library"
READ_ONLY = "read-only"
TIMEOUT = "timeout"
NO_SHM = "no-dev-shm"
TMP_FULL = "tmp-full"
TOO_MANY_TASKS = "processes-threads"
ERROR = "error"

_LOADER = re.compile(r"(?P<so>[^\s:'\"/]+\.so(?:\.[\w]+)*): cannot open shared object file")
#: ctypes users that look a library up by name and give up (python-magic, …).
_CTYPES = re.compile(
    r"(?:failed to|could not|couldn't|unable to|cannot) (?:find|load|locate)\s+(?:the\s+)?"
    r"(?:shared\s+)?(?:library\s+)?['\"`]?(?P<name>lib[\w+-]+(?:\.so[\w.]*)?)",
    re.IGNORECASE)
#: /opt and /var/task are read-only on Lambda; the home folder (/home/sbx_user1051) does not
#: exist and cannot be created (LAMBDA_FACTS: "The process Lambda starts").
_READ_ONLY = re.compile(r"\[Errno (?:30|13)\] (?:Read-only file system|Permission denied): "
                        r"'(?P<path>/(?:opt|var/task|home)(?:/[^']*)?)'")
_TIMEOUT = re.compile(r"\[timed out after (?P<secs>\d+)s\]")
#: numba's ``@jit(cache=True)`` when no cache locator finds a writable place: "cannot cache
#: function 'f': no locator available for file '/opt/python/pkg/mod.py'" (numba/core/caching.py).
_NUMBA_LOCATOR = re.compile(r"no locator available for file '(?P<path>[^']*)'")
#: A traceback frame's file, and the import roots of Lambda's sys.path (layer, function code)
#: or of a host run (any site-packages or a staged ``python/`` folder).
_FRAME = re.compile(r'File "(?P<path>[^"]+)", line \d+')
_ROOTS = re.compile(r"^(?:/opt/python(?:/lib/python3\.\d+/site-packages)?|/var/task|"
                    r".*/site-packages|.*/python)/(?P<top>[A-Za-z_][\w]*)")

#: Package (top-level import name) -> the environment variable that moves what it writes
#: beside its files or in the home folder, each from the package's own documentation.
WRITABLE_SETTINGS: Mapping[str, str] = MappingProxyType({
    # numba docs, "Environment variables": NUMBA_CACHE_DIR, where cache=True writes
    "numba": "NUMBA_CACHE_DIR",
    # matplotlib docs, "Configuration": MPLCONFIGDIR, the config and cache folder
    "matplotlib": "MPLCONFIGDIR",
    # huggingface_hub docs, "Environment variables": HF_HOME (TRANSFORMERS_CACHE is the older
    # name transformers still reads)
    "huggingface_hub": "HF_HOME",
    "transformers": "HF_HOME",
    "datasets": "HF_HOME",
    "sentence_transformers": "HF_HOME",
    # PyTorch docs, torch.hub: TORCH_HOME
    "torch": "TORCH_HOME",
    "torchvision": "TORCH_HOME",
    # NLTK docs, "Installing NLTK Data": NLTK_DATA
    "nltk": "NLTK_DATA",
    # tldextract README: TLDEXTRACT_CACHE
    "tldextract": "TLDEXTRACT_CACHE",
})
#: What platformdirs/appdirs users (and so most caches under ~/.cache) honour.
GENERIC_SETTING = "XDG_CACHE_HOME"
#: A POSIX semaphore that cannot be created: multiprocessing's locks without /dev/shm. The
#: errno depends on the C library, not on Lambda: glibc 2.34 and later (Amazon Linux 2023,
#: and this sandbox on any host with glibc >= 2.34) open /dev/shm/sem.* directly, so a
#: missing /dev/shm is ENOENT (2); glibc up to 2.33 (Amazon Linux 2's 2.26) looks for a tmpfs
#: at /dev/shm or in /proc/mounts first and without one fails with ENOSYS (38), or with
#: EROFS (30) / EACCES (13) when the tmpfs it finds is not writable. All mean the same thing.
_SEMLOCK = re.compile(r"_multiprocessing\.SemLock|multiprocessing[/\\]synchronize\.py")
_SEM_ERRNO = re.compile(r"\[Errno (?:38|2|13|30)\]")
#: Past RLIMIT_NPROC: CPython's thread start ("can't start new thread", 3.10 to 3.13) and a
#: fork (os.fork, subprocess, multiprocessing: EAGAIN, "[Errno 11] Resource temporarily
#: unavailable", raised from the fork itself).
_NO_THREAD = re.compile(r"RuntimeError: can't start new thread")
_NO_FORK = re.compile(r"(?:fork|_fork_exec|_execute_child|Popen|_launch)\b[\s\S]*"
                      r"BlockingIOError: \[Errno 11\] Resource temporarily unavailable")
_NO_SPACE = re.compile(r"\[Errno 28\] No space left on device(?::\s*'(?P<path>[^']*)')?")


@dataclass(frozen=True)
class Cause:
    kind: str  # MISSING_LIBRARY | READ_ONLY | TIMEOUT | ERROR
    detail: str  # the soname, the path, the seconds, or the error's last line
    #: The package that writes (READ_ONLY), and the setting that moves its writes.
    package: str | None = None
    setting: str | None = None

    @property
    def excusable(self) -> bool:
        """Only an ordinary error may be excused as "fails before pruning too" for an optional
        part; a missing library, a write to /opt or a timeout never are."""
        return self.kind == ERROR

    @property
    def fix(self) -> str | None:
        """The standard fix, when there is one: the setting that moves the writes."""
        if self.setting is None:
            return None
        who = f"{self.package} writes" if self.package else "the code writes"
        return (f"{who} where Lambda allows no writes: set {self.setting} to a folder under "
                f"/tmp in the function's environment (for example {self.setting}="
                f"/tmp/{self.package or 'cache'}).")

    def describe(self) -> str:
        if self.kind == MISSING_LIBRARY:
            return (f"missing system library {self.detail}: Lambda's runtime does not provide "
                    "it (provide it in a layer's lib/ and pass --system-lib, or use a variant "
                    "that does not need it)")
        if self.kind == READ_ONLY:
            home = self.detail.startswith("/home")
            where, why = (("the home folder", "Lambda gives the function none it can write")
                          if home else
                          ("the read-only layer", "on Lambda /opt and /var/task are read-only"))
            fix = f"set {self.setting} under /tmp" if self.setting else "write under /tmp"
            return f"write to {where}: {self.detail} ({why}; {fix})"
        if self.kind == TIMEOUT:
            return f"timeout: still running after {self.detail} s"
        if self.kind in LAMBDA_LIMITS:
            return LAMBDA_LIMITS[self.kind] + (f" ({self.detail})" if self.detail else "")
        return self.detail


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else text.strip()


def package_of(path: str) -> str | None:
    """The top-level package a file on an import root belongs to (``/opt/python/numba/x.py``
    -> ``numba``)."""
    m = _ROOTS.match(path)
    return m.group("top") if m else None


def _writer(output: str, path: str) -> tuple[str | None, str | None]:
    """(package, setting) for a write to ``path``: the package whose setting is known among
    the traceback's frames (innermost first), else the owner of the path, else the innermost
    package; with the generic cache setting when none is known."""
    frames = [package_of(m.group("path")) for m in _FRAME.finditer(output)]
    candidates = [p for p in (*reversed(frames), package_of(path)) if p]
    for pkg in candidates:
        if pkg in WRITABLE_SETTINGS:
            return pkg, WRITABLE_SETTINGS[pkg]
    owner = package_of(path) or (candidates[0] if candidates else None)
    return owner, GENERIC_SETTING if path.startswith("/home") else None


#: What the sandbox's Lambda limits make fail, and the fix (LAMBDA_FACTS "The process
#: Lambda starts"; AWS "Lambda quotas").
LAMBDA_LIMITS = {
    NO_SHM: ("multiprocessing needs /dev/shm, which Lambda does not have (Pool, Queue, Lock "
             "and ProcessPoolExecutor fail there: OSError [Errno 38] Function not implemented "
             "on python3.10/3.11, FileNotFoundError [Errno 2] on python3.12 and later): use "
             "threads "
             "(concurrent.futures.ThreadPoolExecutor), or multiprocessing.Process with Pipe "
             "only"),
    TMP_FULL: ("/tmp is full: Lambda's /tmp holds 512 MB unless the function's ephemeral "
               "storage is raised (up to 10,240 MB); write less there, or build with "
               "--ephemeral-storage MB and give the function the same EphemeralStorage"),
    # AWS "Lambda quotas": "Execution processes/threads: 1,024"
    TOO_MANY_TASKS: ("past Lambda's limit of 1,024 processes/threads per execution "
                     "environment (AWS \"Lambda quotas\"), which the sandbox sets: start "
                     "fewer threads or processes (a bounded ThreadPoolExecutor)"),
}


def lambda_limit(output: str) -> Cause | None:
    """A failure caused by a limit of the process Lambda starts: no /dev/shm, a full /tmp,
    too many processes/threads."""
    if _SEMLOCK.search(output) and _SEM_ERRNO.search(output):
        return Cause(NO_SHM, "")
    m = _NO_THREAD.search(output) or _NO_FORK.search(output)
    if m:
        return Cause(TOO_MANY_TASKS, _last_line(m.group(0)))
    m = _NO_SPACE.search(output)
    if m:
        return Cause(TMP_FULL, m.group("path") or "")
    return None


def classify(output: str) -> Cause:
    """The cause of a failed run from its traceback/output."""
    m = _TIMEOUT.search(output)
    if m:
        return Cause(TIMEOUT, m.group("secs"))
    m = _NUMBA_LOCATOR.search(output)
    if m:  # numba found no writable cache place: beside the code (read-only) nor at home
        return Cause(READ_ONLY, f"numba's cache=True for {m.group('path')}", "numba",
                     WRITABLE_SETTINGS["numba"])
    limit = lambda_limit(output)
    if limit is not None:
        return limit
    m = _LOADER.search(output)
    if m:
        return Cause(MISSING_LIBRARY, m.group("so"))
    m = _CTYPES.search(output)
    if m:
        return Cause(MISSING_LIBRARY, m.group("name"))
    m = _READ_ONLY.search(output)
    if m:
        package, setting = _writer(output, m.group("path"))
        return Cause(READ_ONLY, m.group("path"), package, setting)
    return Cause(ERROR, _last_line(output)[:300])
