#!/usr/bin/env python3
"""Reference reading of INI files for tests/test_ini.c: Python's own configparser, set up as
supervisord 4.2.5 sets it up (RawConfigParser, inline comments after ';' and '#', strict off).

For each FILE it prints one dump: "ERROR" if configparser refuses the file, else every
section in order ([DEFAULT] first when written) as "[NAME]" and its keys as "KEY=VALUE",
with backslash and newline in values written as \\\\ and \\n.  test_ini.c prints the same
dump from ini_parse() and compares the two."""
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


for path in sys.argv[1:]:
    sys.stdout.buffer.write(dump(path).encode("utf-8", "surrogateescape"))
