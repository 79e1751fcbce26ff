#!/usr/bin/env python3
"""Reference reading of INI files for tests/test_ini.c: Python's own configparser, set up as
supervisord 4.2.5 sets it up (RawConfigParser, inline comments after ';' and '#', strict off).

For each FILE it prints one dump: "ERROR" if configparser refuses the file, else every
section in order ([DEFAULT] first when written) as "[NAME]" and its keys as "KEY=VALUE",
with backslash and newline in values written as \\\\ and \\n.  test_ini.c prints the same
dump from ini_parse() and compares the two.

With --split TEXT... it prints, for each TEXT, shlex.split(TEXT) (how supervisord splits
`command=`) as one escaped word a line, and with --environment TEXT... supervisord's own
datatypes.dict_of_key_value_pairs(TEXT) as KEY=VALUE lines; "ERROR message" when they
refuse it, and "." after each TEXT."""
import configparser
import sys


def escape(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def dump(path):
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            parser.read_file(f)
    except configparser.Error:
        return "ERROR\n"
    out = []
    sections = ([("DEFAULT", parser._defaults)] if parser._defaults else []) + list(parser._sections.items())
    for name, keys in sections:
        out.append("[%s]\n" % escape(name))
        for key, value in keys.items():
            out.append("%s=%s\n" % (escape(key), escape(value)))
    return "".join(out)


def values(texts, reader):
    out = []
    for text in texts:
        try:
            out += [escape(v) + "\n" for v in reader(text)]
        except ValueError as e:
            out.append("ERROR %s\n" % escape(str(e)))
        out.append(".\n")
    return "".join(out)


if sys.argv[1:2] == ["--split"]:
    import shlex
    result = values(sys.argv[2:], shlex.split)
elif sys.argv[1:2] == ["--environment"]:
    sys.path.append("/usr/lib/python3/dist-packages")  # Debian's supervisor, for any python3
    from supervisor.datatypes import dict_of_key_value_pairs
    result = values(sys.argv[2:], lambda t: ["%s=%s" % kv for kv in dict_of_key_value_pairs(t).items()])
else:
    result = "".join(dump(path) for path in sys.argv[1:])
sys.stdout.buffer.write(result.encode("utf-8", "surrogateescape"))
