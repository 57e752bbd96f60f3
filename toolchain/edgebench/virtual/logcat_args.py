"""Command lines of the device's `logcat` and `log` applets, parsed as AOSP's tools read them.

logcat: -c/--clear, -d, -t N|TIME (implies -d), -T N|TIME, -b/--buffer (repeatable, comma lists,
`all`, `default`), -v/--format (a format plus modifiers, repeatable), -s, -m/--max-count, -e/--regex,
--pid, -g/--buffer-size, -D/--dividers, filterspecs (`TAG:P`, `*:S`; ANDROID_LOG_TAGS when none
are given). TIME is `MM-DD hh:mm:ss.mmm`, `YYYY-MM-DD hh:mm:ss.mmm` or epoch `sssss.mmm`, in the
device's time zone (UTC). `log [-b BUFFER] [-p PRI] [-t TAG] [MESSAGE...]` as toybox's `log`.
"""
from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

from edgebench.virtual.device_log import BUFFERS, DEFAULT_BUFFERS, FORMATS, MODIFIERS, LineFormat, TagFilter, priority_of


class UsageFailure(Exception):
    """A command line the applet refuses; the message is what it prints on stderr."""


@dataclass(frozen=True)
class Since:
    count: int | None = None  # the last `count` entries
    time_ns: int | None = None  # entries at or after this time


@dataclass(frozen=True)
class LogcatRequest:
    buffers: tuple[str, ...] = DEFAULT_BUFFERS
    line_format: LineFormat = LineFormat()
    tag_filter: TagFilter = TagFilter()
    clear: bool = False
    dump: bool = False  # -d / -t: print what is there and exit (else follow)
    since: Since | None = None
    max_count: int | None = None
    regex: str | None = None
    pid: int | None = None
    sizes: bool = False  # -g
    dividers: bool = False


@dataclass(frozen=True)
class LogRequest:
    buffer: str
    priority: int
    tag: str
    message: str


_TIME_RE = re.compile(r"(?:(\d{4})-)?(\d\d)-(\d\d)\s+(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?")
_EPOCH_RE = re.compile(r"(\d+)\.(\d{1,9})")


def parse_since(text: str, *, option: str) -> Since:
    text = text.strip()
    if text.isdigit():
        return Since(count=int(text))
    epoch = _EPOCH_RE.fullmatch(text)
    if epoch:
        return Since(time_ns=int(epoch[1]) * 1_000_000_000 + int(epoch[2].ljust(9, "0")))
    match = _TIME_RE.fullmatch(text)
    if match:
        year = int(match[1]) if match[1] else time.gmtime().tm_year
        seconds = calendar.timegm((year, int(match[2]), int(match[3]), int(match[4]), int(match[5]),
                                   int(match[6]), 0, 0, 0))
        return Since(time_ns=seconds * 1_000_000_000 + int((match[7] or "0").ljust(9, "0")))
    raise UsageFailure(f"logcat: {option} \"{text}\" is neither a count nor a time; expected a number of lines, "
                       "'MM-DD hh:mm:ss.mmm', 'YYYY-MM-DD hh:mm:ss.mmm' or 'sssss.mmm'")


def parse_filterspec(spec: str, current: TagFilter) -> TagFilter:
    tag, sep, level = spec.partition(":")
    if not sep:
        level = "D" if tag == "*" else "V"  # a bare `*` means *:D, a bare tag TAG:V (liblog's rule)
    priority = priority_of(level)
    if not tag or priority is None:
        raise UsageFailure(f"logcat: Invalid filter expression '{spec}'; expected TAG:P with P one of "
                           "V D I W E F S (or * for TAG)")
    if tag == "*":
        return TagFilter(priority, current.by_tag)
    return TagFilter(current.default_priority, current.by_tag + ((tag, priority),))


def _buffers(value: str, chosen: list[str]) -> None:
    for name in value.split(","):
        if name == "all":
            chosen.extend(BUFFERS)
        elif name == "default":
            chosen.extend(DEFAULT_BUFFERS)
        elif name in BUFFERS:
            chosen.append(name)
        else:
            raise UsageFailure(f"logcat: unknown buffer '{name}'; expected one of {', '.join(BUFFERS)}, all, "
                               "default")


def _format(value: str, fmt: dict[str, object]) -> None:
    for word in value.replace(",", " ").split():
        if word in FORMATS:
            fmt["name"] = word
        elif word in ("year", "epoch", "usec", "uid"):
            fmt[word] = True
        elif word not in MODIFIERS:  # color, UTC, zone...: accepted, nothing to change here
            raise UsageFailure(f"logcat: Invalid parameter \"{word}\" to -v; expected one of "
                               f"{', '.join(FORMATS)} or a modifier ({', '.join(MODIFIERS)})")


_WITH_VALUE = {"-b": "--buffer", "-v": "--format", "-t": "-t", "-T": "-T", "-m": "--max-count",
               "-e": "--regex", "-f": "--file", "-G": "--buffer-size-set", "-r": "--rotate-kbytes",
               "-n": "--rotate-count", "-p": "--prune", "-P": "--prune"}
_LONG_WITH_VALUE = {"--buffer", "--format", "--max-count", "--regex", "--pid", "--file", "--rotate-kbytes",
                    "--rotate-count", "--print"}


def _options(argv: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Split argv into (option, value) pairs and filterspecs, getopt style (flags may be joined)."""
    options: list[tuple[str, str | None]] = []
    specs: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name in _LONG_WITH_VALUE and not eq:
                if i >= len(argv):
                    raise UsageFailure(f"logcat: option '{name}' requires an argument")
                value, i = argv[i], i + 1
            options.append((name, value if (eq or name in _LONG_WITH_VALUE) else None))
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                flag = "-" + arg[j]
                if flag in _WITH_VALUE:
                    value = arg[j + 1:]
                    if not value:
                        if i >= len(argv):
                            raise UsageFailure(f"logcat: option requires an argument -- '{arg[j]}'")
                        value, i = argv[i], i + 1
                    options.append((flag, value))
                    break
                options.append((flag, None))
                j += 1
        else:
            specs.append(arg)
    return options, specs


def parse_logcat(argv: list[str], env_tags: str = "") -> LogcatRequest:
    options, specs = _options(argv)
    chosen: list[str] = []
    fmt: dict[str, object] = {}
    req: dict[str, object] = {}
    silent = False
    for name, value in options:
        if name in ("-c", "--clear"):
            req["clear"] = True
        elif name in ("-d", "--dump"):
            req["dump"] = True
        elif name in ("-t", "-T"):
            req["since"] = parse_since(value or "", option=name)
            if name == "-t":
                req["dump"] = True
        elif name in ("-b", "--buffer"):
            _buffers(value or "", chosen)
        elif name in ("-v", "--format"):
            _format(value or "", fmt)
        elif name == "-s":
            silent = True
        elif name in ("-m", "--max-count"):
            if not (value or "").isdigit() or int(value or "0") < 1:
                raise UsageFailure(f"logcat: -m needs a count >= 1, got '{value}'")
            req["max_count"] = int(value or "0")
        elif name in ("-e", "--regex"):
            try:
                re.compile(value or "")
            except re.error as exc:
                raise UsageFailure(f"logcat: invalid regex '{value}': {exc}") from None
            req["regex"] = value
        elif name == "--pid":
            if not (value or "").isdigit():
                raise UsageFailure(f"logcat: --pid needs a process id, got '{value}'")
            req["pid"] = int(value or "0")
        elif name in ("-g", "--buffer-size"):
            req["sizes"] = True
        elif name in ("-D", "--dividers"):
            req["dividers"] = True
        elif name in ("-B", "--binary", "-f", "--file", "-L", "--last", "-G", "--buffer-size-set", "-r",
                      "--rotate-kbytes", "-n", "--rotate-count", "-p", "-P", "--prune", "-S", "--statistics"):
            raise UsageFailure(f"logcat: {name} is not supported by the edgebench virtual device (its log lives "
                               "in memory only); redirect logcat's output to keep it")
        elif name not in ("-h", "--help", "-Q"):
            raise UsageFailure(f"logcat: invalid option -- '{name.lstrip('-')}'")
    tag_filter = TagFilter(8 if silent else 2)
    for spec in (specs if specs else env_tags.split()):
        tag_filter = parse_filterspec(spec, tag_filter)
    return LogcatRequest(buffers=tuple(dict.fromkeys(chosen)) or DEFAULT_BUFFERS, line_format=LineFormat(**fmt),  # type: ignore[arg-type]
                         tag_filter=tag_filter, **req)  # type: ignore[arg-type]


def parse_log(argv: list[str], stdin_text: str) -> LogRequest:
    """toybox `log`: -b BUFFER (main), -p PRI (i), -t TAG (log); the message, else stdin."""
    options, words = _log_options(argv)
    buffer = options.get("-b", "main")
    if buffer not in BUFFERS:
        raise UsageFailure(f"log: -b: unknown buffer '{buffer}'; expected one of {', '.join(BUFFERS)}")
    priority = priority_of(options.get("-p", "i")[:1])
    if priority is None or priority > 7 or len(options.get("-p", "i")) != 1:
        raise UsageFailure(f"log: -p: bad priority '{options.get('-p')}'; expected one of v d i w e f")
    message = " ".join(words) if words else stdin_text.rstrip("\n")
    return LogRequest(buffer, priority, options.get("-t", "log"), message)


def _log_options(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and len(argv[i]) > 1:
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        flag = arg[:2]
        if flag not in ("-b", "-p", "-t"):
            raise UsageFailure(f"log: Unknown option '{arg}'; usage: log [-b BUFFER] [-p PRI] [-t TAG] [MESSAGE...]")
        if len(arg) > 2:
            options[flag], i = arg[2:], i + 1
        elif i + 1 < len(argv):
            options[flag], i = argv[i + 1], i + 2
        else:
            raise UsageFailure(f"log: Missing argument to {flag}")
    return options, argv[i:]
