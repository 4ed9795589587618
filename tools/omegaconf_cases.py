#!/usr/bin/python3
"""Generates tests/testdata/omegaconf_cases.json: tricky interpolation cases resolved by real
OmegaConf, which tests/config/omegaconf_compat_test.ts replays against autoexp's engine.

Run with Debian's python, which has OmegaConf 2.2 installed:

    /usr/bin/python3 tools/omegaconf_cases.py

Configs are Python literals, never YAML text: YAML 1.1 vs 1.2 scalar typing is a separate,
deliberate choice of autoexp and is kept out of this comparison. Only resolvers built into
OmegaConf 2.2 are used (oc.env, oc.select, oc.decode, oc.dict.keys, oc.dict.values), plus
`eval`, registered as users register it (Python's `eval`), restricted to the functions of
autoexp's own `${eval:...}` (lib/config/eval_expr.ts).

Python floats are written as JSON numbers with a decimal point or an exponent (`1.0`, `1e+16`),
ints without: the tests read them back so (tests/_helpers.ts `parsePythonJson`), so a case
also checks that a float with an integral value stays a float.

Each case becomes one JSON record:

    {name, config, env, allow_missing, expected, error, problem?, deviation?, omegaconf?}

- `expected` is the resolved container (`OmegaConf.to_container(cfg, resolve=True)`), or
  null when resolving raised; `error` is then the exception class name.
- `problem` (error cases only) is what autoexp must report: the key path of the problem and
  substrings its message must contain.
- `deviation` marks a case where autoexp differs from OmegaConf on purpose: it says why, and
  `expected`/`error` hold autoexp's documented behaviour while `omegaconf` records what
  OmegaConf itself produced.

Without `allow_missing`, `???` values are errors (`throw_on_missing=True`), as in autoexp.
"""

import copy
import json
import math
import os
import sys
import warnings
from pathlib import Path

import omegaconf
from omegaconf import OmegaConf

OUT = Path(__file__).resolve().parent.parent / "tests" / "testdata" / "omegaconf_cases.json"

# Names of environment variables that are never set in any case.
UNSET = "AUTOEXP_TEST_UNSET"


def case(name, config, env=None, allow_missing=False, problem=None):
    """A case whose expected value comes from OmegaConf. `problem` = (path, [substrings])."""
    return {
        "name": name,
        "config": config,
        "env": env or {},
        "allow_missing": allow_missing,
        "problem": problem,
        "deviation": None,
    }


def deviation(name, config, why, ours=None, ours_error=None, env=None, problem=None):
    """A deliberate difference: `ours` (or `ours_error`) is autoexp's documented result."""
    c = case(name, config, env=env, problem=problem)
    c["deviation"] = why
    c["ours"] = ours
    c["ours_error"] = ours_error
    return c


CASES = [
    # --- absolute references -------------------------------------------------------------
    case("absolute reference to a scalar keeps its type", {"a": 1, "b": "${a}"}),
    case(
        "absolute reference to a nested key",
        {"a": {"b": {"c": "deep"}}, "d": "${a.b.c}"},
    ),
    case(
        "reference preserves float, bool and None",
        {"f": 1.5, "t": True, "n": None, "rf": "${f}", "rt": "${t}", "rn": "${n}"},
    ),
    case(
        "reference to a numeric-looking string stays a string",
        {"a": "5", "b": "${a}", "c": "${a}${a}"},
    ),
    case(
        "reference to a dict is a dict",
        {"a": {"x": 1, "y": [1, 2]}, "b": "${a}"},
    ),
    case(
        "reference to a list is a list",
        {"a": [1, "two", 3.5, None], "b": "${a}"},
    ),
    case(
        "reference to a dict resolves the interpolations inside it",
        {"a": {"x": "${y}"}, "y": 2, "b": "${a}"},
    ),
    case(
        "reference to a dict resolves its relative interpolations in place",
        {"a": {"x": 1, "y": "${.x}"}, "b": "${a}"},
    ),
    case(
        "key with dash and dollar characters",
        {"my-key": 1, "v": "${my-key}", "k$": 2, "w": "${k$}"},
    ),
    # --- relative references -------------------------------------------------------------
    case("relative sibling reference at the root", {"x": 1, "y": "${.x}"}),
    case("relative sibling reference in a dict", {"a": {"x": 1, "y": "${.x}"}}),
    case(
        "relative parent reference",
        {"x": 0, "a": {"x": 1, "b": {"y": "${..x}"}}},
    ),
    case(
        "relative grandparent reference",
        {"x": 0, "a": {"b": {"c": "${...x}"}}},
    ),
    case(
        "relative parent reference then descend",
        {"a": {"b": 1}, "c": {"d": "${..a.b}"}},
    ),
    case(
        "relative references from list elements",
        {"a": {"l": [1, "${.0}", "${..x}"], "x": 9}},
    ),
    case(
        "relative references from a dict inside a list",
        {"a": [{"x": 1, "y": "${.x}", "z": "${..0.x}"}]},
    ),
    case(
        "relative reference above the root is an error",
        {"a": {"b": 1}, "c": "${..a}"},
        problem=("c", ["..a", "above the root"]),
    ),
    # --- list indices --------------------------------------------------------------------
    case(
        "list index with dot and bracket syntax",
        {"a": [10, 20, 30], "b": "${a.0}", "c": "${a[1]}"},
    ),
    case(
        "nested list indices",
        {"a": [[1, 2], [3, 4]], "b": "${a[1][0]}", "c": "${a.1.0}", "d": "${a[1].1}"},
    ),
    case(
        "list index then dict key",
        {"a": [{"x": 1}], "b": "${a[0].x}", "c": "${a.0.x}"},
    ),
    case(
        "list element referencing an earlier element",
        {"l": [1, "${l.0}", "x${l[0]}"]},
    ),
    case(
        "list index out of range is an error",
        {"a": [1], "b": "${a.5}"},
        problem=("b", ["a.5", "a[5]"]),
    ),
    case(
        "negative list index is an error",
        {"a": [1], "b": "${a[-1]}"},
        problem=("b", ["a[-1]"]),
    ),
    # --- string interpolation ------------------------------------------------------------
    case(
        "string interpolation of ints",
        {"n": 3, "m": -5, "z": 0, "s": "n=${n},m=${m},z=${z}"},
    ),
    case(
        "string interpolation of floats uses Python repr",
        {
            "a": 0.001,
            "b": 1e-05,
            "c": 1e16,
            "d": 1.5,
            "e": 0.0001,
            "f": 1.5e300,
            "g": 0.1 + 0.2,
            "h": -2.5e-7,
            "i": 123456789.125,
            "s": "${a}|${b}|${c}|${d}|${e}|${f}|${g}|${h}|${i}",
        },
    ),
    case(
        "string interpolation of a whole float",
        {"a": 100.0, "b": 2.0, "s": "x${a}_${b}"},
    ),
    case(
        "string interpolation of bools and None",
        {"t": True, "f": False, "n": None, "s": "${t}/${f}/${n}"},
    ),
    case(
        "string interpolation of containers prints them Python-style",
        {"a": [1, "x", None, True], "d": {"k": 1, "s": "v"}, "s": "l=${a} d=${d}"},
    ),
    case(
        "whitespace around a single interpolation makes a string",
        {"a": 5, "b": " ${a}", "c": "${a} "},
    ),
    case(
        "stray closing brace and dollar stay text",
        {"x": 1, "a": "${x}}", "b": "cost $5 ${x}", "c": "$x ${x}$"},
    ),
    # --- nested interpolations -----------------------------------------------------------
    case(
        "nested interpolation in a key",
        {"k": "b", "a": {"b": 1, "c": 2}, "v": "${a.${k}}", "w": "${a[${k}]}"},
    ),
    case(
        "nested interpolation as the whole key",
        {"k": "a.b", "a": {"b": 3}, "v": "${${k}}"},
    ),
    case(
        "nested interpolation in an oc.env name",
        {"name": "MY_VAR", "v": "${oc.env:${name}}", "w": "${oc.env:${name}_X,d}"},
        env={"MY_VAR": "hello"},
    ),
    # --- chains and intermediate interpolated nodes --------------------------------------
    case(
        "chained references",
        {"a": 1, "b": "${a}", "c": "${b}", "d": "c=${c}"},
    ),
    case(
        "reference through an interpolated dict node",
        {"b": {"x": 1, "y": {"z": 2}}, "a": "${b}", "c": "${a.x}", "d": "${a.y.z}"},
    ),
    case(
        "reference through an interpolated list node",
        {"b": [1, {"z": 2}], "a": "${b}", "c": "${a.1.z}", "d": "${a[0]}"},
    ),
    # --- escapes -------------------------------------------------------------------------
    case("escaped interpolation is literal", {"x": 1, "s": "\\${x}", "t": "a\\${x}b"}),
    case("escaped backslash before an interpolation", {"x": 1, "s": "\\\\${x}"}),
    case(
        "odd and even backslash runs before an interpolation",
        {"x": 1, "a": "\\\\\\${x}", "b": "\\\\\\\\${x}", "c": "\\\\\\\\\\${x}"},
    ),
    case(
        "backslashes not before an interpolation are kept",
        {"x": 1, "a": "a\\b_${x}", "b": "a\\\\b${x}", "c": "x\\${x}\\\\"},
    ),
    case(
        "a referenced escaped string is not resolved again",
        {"x": 1, "a": "\\${x}", "b": "${a}"},
    ),
    deviation(
        "double dollar is a literal interpolation",
        {"x": 1, "a": "$${x}", "b": "run_$${oc.env:MY_VAR}"},
        why="autoexp extension: `$${...}` stays a literal `${...}` at plan time so a derived run "
        "(a cooldown) resolves it later; OmegaConf prints `$` and resolves",
        ours={"x": 1, "a": "${x}", "b": "run_${oc.env:MY_VAR}"},
        env={"MY_VAR": "v"},
    ),
    # --- quoted resolver arguments -------------------------------------------------------
    case(
        "quoted arguments may hold commas, braces and the other quote",
        {
            "a": "${oc.env:" + UNSET + ",'a,b'}",
            "b": "${oc.env:" + UNSET + ',"x, y"}',
            "c": "${oc.env:" + UNSET + ",'a}b'}",
            "d": "${oc.env:" + UNSET + ",'a\"b'}",
            "e": "${oc.env:" + UNSET + ',"a\'b"}',
        },
    ),
    case(
        "escaped quotes in quoted arguments",
        {
            "a": "${oc.env:" + UNSET + ",'it\\'s'}",
            "b": "${oc.env:" + UNSET + ',"say \\"hi\\""}',
        },
    ),
    case(
        "empty quoted argument",
        {"a": "${oc.env:" + UNSET + ",''}"},
    ),
    case(
        "interpolations inside quoted arguments",
        {"x": 1, "a": "${oc.env:" + UNSET + ",'v=${x}'}", "b": "${oc.env:" + UNSET + ",'${x}'}"},
    ),
    case(
        "escapes inside quoted arguments",
        {
            "x": 1,
            "a": "${oc.env:" + UNSET + ",'a\\\\${x}'}",
            "b": "${oc.env:" + UNSET + ",'a\\${x}'}",
            "c": "${oc.env:" + UNSET + ",'a\\\\'}",
            "d": "${oc.env:" + UNSET + ",'a\\\\b'}",
            "e": "${oc.env:" + UNSET + ",'a\\nb'}",
        },
    ),
    case(
        "escapes in unquoted arguments",
        {
            "x": 1,
            "a": "${oc.env:" + UNSET + ",a\\,b}",
            "b": "${oc.env:" + UNSET + ",a\\ b}",
            "c": "${oc.env:" + UNSET + ",\\(x\\)}",
            "d": "${oc.env:" + UNSET + ",a\\=b}",
            "e": "${oc.env:" + UNSET + ",a\\\\b}",
            "f": "${oc.env:" + UNSET + ",a\\b}",
        },
    ),
    case(
        "backslashes before an interpolation in unquoted arguments",
        {
            "x": 1,
            "a": "${oc.env:" + UNSET + ",a\\\\${x}}",
            "b": "${oc.env:" + UNSET + ",a\\${x}}",
        },
    ),
    case(
        "colon, slash and other allowed characters in an unquoted argument",
        {
            "a": "${oc.env:" + UNSET + ",a:b}",
            "b": "${oc.env:" + UNSET + ",http://host:80/p?q|r}",
            "c": "${oc.env:" + UNSET + ",a@b%c*d-e+f}",
        },
    ),
    deviation(
        "unquoted arguments also accept parentheses and operator characters",
        {
            "a": "${oc.env:" + UNSET + ",max(1, 2)}",
            "b": "${oc.env:" + UNSET + ",a=b}",
            "c": "${oc.env:" + UNSET + ",1<2}",
        },
        why="autoexp lets unquoted arguments hold any character except quotes, brackets, braces "
        "and top-level commas (a comma inside parentheses does not split), so arithmetic such as "
        "${eval:max(${a}, 2)} or ${eval:${a} >= 2} works unquoted; OmegaConf 2.2 raises a "
        "GrammarParseError for ( ) = < > ! # ~ & ; ^",
        ours={"a": "max(1, 2)", "b": "a=b", "c": "1<2"},
    ),
    # --- whitespace ----------------------------------------------------------------------
    case(
        "whitespace inside a reference is ignored",
        {"x": {"y": 2}, "a": "${ x.y }", "b": "${x.y }", "c": "${ .x.y}"},
    ),
    case(
        "whitespace around resolver arguments is trimmed, inner whitespace kept",
        {
            "a": {"b": 1},
            "d": "${oc.env:" + UNSET + ", default }",
            "e": "${oc.env:" + UNSET + ", a b }",
            "f": "${oc.select: a.b , 5 }",
            "g": "${oc.env:" + UNSET + ",  'q' }",
        },
    ),
    case(
        "whitespace around the resolver name",
        {"c": "${ oc.env : MY_VAR }"},
        env={"MY_VAR": "v"},
    ),
    case(
        "text after a quoted argument is a syntax error",
        {"c": "${oc.env:" + UNSET + ",'q' x}"},
        problem=("c", ["column"]),
    ),
    # --- oc.env --------------------------------------------------------------------------
    case(
        "oc.env reads a variable and always gives a string",
        {"v": "${oc.env:N}", "s": "n=${oc.env:N}"},
        env={"N": "10"},
    ),
    case(
        "oc.env does not resolve interpolations in the variable",
        {"x": 5, "a": "${oc.env:E}"},
        env={"E": "${x}"},
    ),
    case(
        "oc.env default null gives None",
        {"a": "${oc.env:" + UNSET + ",null}"},
    ),
    case(
        "oc.env defaults become strings",
        {
            "b": "${oc.env:" + UNSET + ",5}",
            "c": "${oc.env:" + UNSET + ",1.5}",
            "d": "${oc.env:" + UNSET + ",true}",
            "e": "${oc.env:" + UNSET + ",[1, 'a b', {k: v}]}",
            "f": "${oc.env:" + UNSET + ",{k: v}}",
        },
    ),
    case(
        "oc.env whole-float default becomes a string",
        {"a": "${oc.env:" + UNSET + ",2.0}"},
    ),
    case(
        "oc.env default from an interpolation",
        {"a": 5, "v": "${oc.env:" + UNSET + ",${a}}", "w": "${oc.env:" + UNSET + ",x${a}}"},
    ),
    case(
        "oc.env set variable wins over the default",
        {"a": "${oc.env:MY_VAR,fallback}"},
        env={"MY_VAR": "set"},
    ),
    case(
        "oc.env unset without default is an error",
        {"a": "${oc.env:" + UNSET + "}"},
        problem=("a", [UNSET]),
    ),
    case(
        "oc.env without arguments is an error",
        {"a": "${oc.env:}"},
        problem=("a", ["oc.env"]),
    ),
    # --- oc.select -----------------------------------------------------------------------
    case(
        "oc.select existing key, absent key with and without default",
        {
            "a": 1,
            "v": "${oc.select:a,2}",
            "w": "${oc.select:nope,2}",
            "x": "${oc.select:nope}",
            "y": "${oc.select:a.b.c,z}",
        },
    ),
    case(
        "oc.select relative keys",
        {
            "a": {"x": 1, "v": "${oc.select:.x,0}", "w": "${oc.select:..y,0}",
                  "u": "${oc.select:.nope,'d'}"},
            "y": 7,
        },
    ),
    case(
        "oc.select of a dict keeps it a dict",
        {"a": {"x": 1, "y": [1]}, "v": "${oc.select:a}"},
    ),
    case(
        "oc.select with an interpolated or quoted key",
        {"k": "a", "a": 3, "v": "${oc.select:${k},none}", "w": "${oc.select:${k}x,none}",
         "q": "${oc.select:'a'}"},
    ),
    case(
        "oc.select of a missing value uses the default",
        {"a": "???", "v": "${oc.select:a,def}", "w": "${oc.select:a}"},
        allow_missing=True,
    ),
    # --- oc.decode -----------------------------------------------------------------------
    case(
        "oc.decode of lists and dicts",
        {
            "s": "[1, 2, 'x']",
            "d": "{a: 1, b: [true, null]}",
            "l": "${oc.decode:${s}}",
            "m": "${oc.decode:${d}}",
            "n": "${oc.decode:'{x: [1, {y: 2}]}'}",
            "o": "${oc.decode:'[a, b]'}",
            "p": "${oc.decode:'[]'}",
            "q": "${oc.decode:'{}'}",
        },
    ),
    case(
        "oc.decode of bools, numbers and null",
        {
            "a": "${oc.decode:'true'}",
            "b": "${oc.decode:'TRUE'}",
            "c": "${oc.decode:'3.5'}",
            "d": "${oc.decode:'42'}",
            "e": "${oc.decode:'-7'}",
            "f": "${oc.decode:'+3'}",
            "g": "${oc.decode:'1_000'}",
            "h": "${oc.decode:'1e3'}",
            "i": "${oc.decode:'.5'}",
            "j": "${oc.decode:'null'}",
            "k": "${oc.decode:null}",
        },
    ),
    case(
        "oc.decode of strings",
        {
            "a": "${oc.decode:\"'hello'\"}",
            "b": "${oc.decode:'hello world'}",
            "c": "${oc.decode:'0x10'}",
            "d": "${oc.decode:'a:b'}",
        },
    ),
    case(
        "oc.decode resolves interpolations in the decoded text",
        {"x": 5, "a": "${oc.decode:'${x}'}", "b": "${oc.decode:'x${x}'}",
         "c": "${oc.decode:${oc.env:E}}"},
        env={"E": "${x}"},
    ),
    case(
        "oc.decode of an environment variable",
        {"v": "${oc.decode:${oc.env:LIST}}", "n": "${oc.decode:${oc.env:NUM}}"},
        env={"LIST": "[1, 2]", "NUM": "0.5"},
    ),
    case(
        "oc.decode of malformed text is an error",
        {"a": "${oc.decode:'[1, 2'}"},
        problem=("a", ["[1, 2"]),
    ),
    case(
        "oc.decode of a non-string is an error",
        {"a": "${oc.decode:5}"},
        problem=("a", ["oc.decode"]),
    ),
    case(
        "oc.decode of an empty string is an error",
        {"a": "${oc.decode:''}"},
        problem=("a", ["oc.decode"]),
    ),
    # --- oc.dict.keys / oc.dict.values ---------------------------------------------------
    case(
        "oc.dict.keys and oc.dict.values",
        {"d": {"a": 1, "b": 2}, "k": "${oc.dict.keys:d}", "v": "${oc.dict.values:d}"},
    ),
    case(
        "oc.dict.values resolves the values",
        {"x": 3, "d": {"a": 1, "b": "${x}", "c": {"z": 1}}, "v": "${oc.dict.values:d}"},
    ),
    case(
        "oc.dict.keys with a relative key and of an empty dict",
        {"s": {"d": {"a": 1}, "k": "${oc.dict.keys:.d}"}, "e": {}, "k": "${oc.dict.keys:e}"},
    ),
    case(
        "oc.dict.keys of an absent key is an error",
        {"d": {"a": 1}, "k": "${oc.dict.keys:nope}"},
        problem=("k", ["nope"]),
    ),
    case(
        "oc.dict.keys of a list is an error",
        {"d": [1], "k": "${oc.dict.keys:d}"},
        problem=("k", ["oc.dict.keys"]),
    ),
    deviation(
        "oc.dict.keys of an interpolated dict",
        {"d": {"a": 1, "b": 2}, "k": "${oc.dict.keys:${d}}"},
        why="autoexp also accepts a mapping (not only a key) as the argument of oc.dict.keys and "
        "oc.dict.values; OmegaConf 2.2 raises a TypeError",
        ours={"d": {"a": 1, "b": 2}, "k": ["a", "b"]},
    ),
    # --- missing values ------------------------------------------------------------------
    case(
        "missing value is an error",
        {"a": "???", "b": 1},
        problem=("a", ["missing", "a"]),
    ),
    case(
        "reference to a missing value is an error",
        {"a": "???", "b": "${a}"},
        problem=("a", ["missing"]),
    ),
    case(
        "missing value kept when allowed",
        {"a": "???", "b": 1, "c": {"d": "???"}},
        allow_missing=True,
    ),
    case(
        "reference to a missing value is an error even when missing values are allowed",
        {"a": "???", "b": "${a}"},
        allow_missing=True,
        problem=("b", ["a", "???"]),
    ),
    # --- cycles --------------------------------------------------------------------------
    case("self reference is a cycle", {"a": "${a}"}, problem=("a", ["cycle", "a -> a"])),
    case(
        "two-node cycle",
        {"a": "${b}", "b": "${a}"},
        problem=("a", ["cycle", "a -> b -> a"]),
    ),
    case(
        "three-node cycle through string interpolation",
        {"x": "x${y}", "y": "${z}", "z": "z${x}"},
        problem=("x", ["cycle", "x -> y -> z -> x"]),
    ),
    case(
        "reference to the enclosing dict is a cycle",
        {"a": {"b": "${a}"}},
        problem=("a.b", ['"a"', "contains this node"]),
    ),
    case(
        "reference to the enclosing list is a cycle",
        {"a": ["${a}"]},
        problem=("a[0]", ['"a"', "contains this node"]),
    ),
    # --- unknown keys, resolvers and syntax errors ---------------------------------------
    case(
        "unknown top-level key is an error",
        {"alpha": 1, "b": "${alpah}"},
        problem=("b", ["alpah", "alpha"]),
    ),
    case(
        "unknown nested key is an error",
        {"a": {"b": 1}, "c": "${a.c}"},
        problem=("c", ["a.c"]),
    ),
    case(
        "reference into a scalar is an error",
        {"a": 1, "c": "${a.x}"},
        problem=("c", ["a.x"]),
    ),
    case(
        "string key into a list is an error",
        {"a": [1], "b": "${a.x}"},
        problem=("b", ["a.x"]),
    ),
    case(
        "unknown resolver is an error",
        {"c": "${oc.enw:HOME}"},
        problem=("c", ["oc.enw", "oc.env"]),
    ),
    case("empty interpolation is a syntax error", {"a": "${}"}, problem=("a", ["column"])),
    case("unterminated interpolation is a syntax error", {"x": 1, "a": "${x"},
         problem=("a", ["unterminated", "column"])),
    # --- issue 11: values turned into text as OmegaConf (Python) does ------------------------
    case(
        "oc.decode keeps the spaces of quoted text",
        {"a": "${oc.decode:'  x '}", "b": "${oc.decode:\"' y '\"}", "c": "${oc.decode:' 5 '}"},
    ),
    deviation(
        "oc.dict.keys of integer keys",
        {"d": {1: "a", 2: "b"}, "k": "${oc.dict.keys:d}"},
        "JavaScript holds mapping keys as text: the keys come back as '1' and '2'",
        ours={"d": {"1": "a", "2": "b"}, "k": ["1", "2"]},
    ),
    deviation(
        "a big integer is exact in an interpolated string",
        {"n": 12345678901234567, "s": "id_${n}"},
        "JavaScript numbers hold integers exactly up to 2^53; in YAML a bigger integer is "
        "refused with a message (quote it), see omegaconf_yaml_cases.json",
        ours={"n": 12345678901234568, "s": "id_1.2345678901234568e+16"},
    ),
    case(
        "a reference through a scalar is an error",
        {"a": 5, "b": "${a.x}"},
        problem=("b", ["a.x"]),
    ),
    case(
        "an index into a string is an error",
        {"a": "abc", "b": "${a[0]}"},
        problem=("b", ["a[0]"]),
    ),
    case(
        "a dotted index into a string is an error",
        {"a": "abc", "b": "${a.0}"},
        problem=("b", ["a.0"]),
    ),
    case(
        "length is no key of a list",
        {"a": [1, 2], "b": "${a.length}"},
        problem=("b", ["a.length"]),
    ),
    case(
        "an interpolation of a missing value is an error, also with allow_missing",
        {"a": "???", "b": "${a}", "c": 1},
        allow_missing=True,
        problem=("b", ["a"]),
    ),
    case("a missing value left by allow_missing stays ???", {"a": "???", "c": 1}, allow_missing=True),
    # --- issue 11: whole floats stay floats (1.0 is not 1) -------------------------------------
    case(
        "a reference to a whole float keeps it a float",
        {"a": 1.0, "b": "${a}", "c": "${b}", "i": 1, "j": "${i}"},
    ),
    case(
        "lists and dicts holding whole floats",
        {"l": [1.0, 2, 0.5, -0.0], "d": {"x": 1.0, "y": 3}, "r": "${l}", "e": "${d}",
         "s": "l=${l} d=${d}", "t": "${l[0]}_${d.x}"},
    ),
    case(
        "negative zero, 1e10, 300.0 and 1e16 in a run-name template",
        {"z": -0.0, "e": 1e10, "h": 300.0, "big": 1e16, "lr": 1e-05, "n": 3,
         "name": "run_z${z}_e${e}_h${h}_b${big}_lr${lr}_n${n}"},
    ),
    case(
        "a run name and an output path from whole floats",
        {"trainer": {"lr": 1.0, "scale": 2.0, "steps": 100},
         "name": "w_${trainer.lr}", "dir": "/out/s${trainer.scale}/st${trainer.steps}"},
    ),
    case(
        "oc.decode of whole floats",
        {"a": "${oc.decode:'1.0'}", "b": "${oc.decode:'1e3'}", "c": "${oc.decode:'-0.0'}",
         "d": "${oc.decode:'[1.0, 2, {x: 3.0}]'}", "s": "x${oc.decode:'2.0'}"},
    ),
    case(
        "whole floats as resolver arguments",
        {"a": "${oc.select:nope,1.0}", "b": "${oc.select:nope,[1.0, 2]}",
         "c": "${oc.env:" + UNSET + ",1e10}", "d": "${oc.env:" + UNSET + ",-0.0}"},
    ),
    case(
        "eval: true division gives a float, int arithmetic an int",
        {"a": "${eval:'6/2'}", "b": "${eval:'2*1.0'}", "c": "${eval:'2*3'}",
         "d": "${eval:'7//2'}", "e": "${eval:'7.0//2'}", "f": "${eval:'0.5 + 0.5'}",
         "g": "${eval:'2 ** -1'}", "h": "${eval:'1 ** -1'}", "i": "${eval:'-0.0'}",
         "j": "${eval:'7 % 2.0'}"},
    ),
    case(
        "eval: functions keep Python's int and float results",
        {"a": "${eval:'float(3)'}", "b": "${eval:'int(3.0)'}", "c": "${eval:'abs(-2.0)'}",
         "d": "${eval:'abs(-2)'}", "e": "${eval:'round(2.5)'}", "f": "${eval:'round(2.0, 1)'}",
         "g": "${eval:'max(1, 2.0)'}", "h": "${eval:'min(1, 2.0)'}", "i": "${eval:'ceil(2.5)'}",
         "j": "${eval:'floor(2.0)'}"},
    ),
    case(
        "eval of whole floats from the config, in a name",
        {"x": 1.0, "n": 4, "a": "${eval:'${x} * 2'}", "b": "${eval:'${n} / 2'}",
         "c": "${eval:'${n} // 2'}", "name": "w_${eval:'${x} * 3'}_h${eval:'${n} / 4'}"},
    ),
]

# `eval` as users register it: Python's eval, with the functions autoexp's evaluator offers.
EVAL_GLOBALS = {
    "__builtins__": {},
    "int": int, "float": float, "bool": bool, "abs": abs, "round": round, "min": min,
    "max": max, "ceil": math.ceil, "floor": math.floor,
}
OmegaConf.register_new_resolver("eval", lambda expr: eval(expr, dict(EVAL_GLOBALS)))  # noqa: S307


def resolve_with_omegaconf(c):
    """(expected, error) for one case, with exactly the case's environment."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(c["env"])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cfg = OmegaConf.create(copy.deepcopy(c["config"]))
                value = OmegaConf.to_container(
                    cfg, resolve=True, throw_on_missing=not c["allow_missing"]
                )
                result = (value, None)
            except Exception as e:  # noqa: BLE001 - the class name is the data we record
                result = (None, type(e).__name__)
        if caught:
            # A construct OmegaConf is deprecating has no stable meaning to compare against.
            sys.exit(f"{c['name']}: OmegaConf warned: {caught[0].message}")
        return result
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build():
    if omegaconf.__version__ != "2.2.2":
        sys.exit(f"expected OmegaConf 2.2.2, found {omegaconf.__version__}")
    names = set()
    out = []
    failures = []
    for c in CASES:
        if c["name"] in names:
            failures.append(f"duplicate case name: {c['name']}")
        names.add(c["name"])
        expected, error = resolve_with_omegaconf(c)
        record = {
            "name": c["name"],
            "config": c["config"],
            "env": c["env"],
            "allow_missing": c["allow_missing"],
        }
        if c["deviation"]:
            record["deviation"] = c["deviation"]
            record["omegaconf"] = {"expected": expected, "error": error}
            theirs = (expected, error)
            expected, error = c["ours"], c["ours_error"]
            if theirs == (expected, error):
                failures.append(f"{c['name']}: marked as a deviation but OmegaConf agrees")
        record["expected"] = expected
        record["error"] = error
        if error is not None:
            if not c["problem"]:
                failures.append(
                    f"{c['name']}: OmegaConf raised {error}; declare the problem autoexp reports"
                )
                continue
            path, mentions = c["problem"]
            record["problem"] = {"path": path, "mentions": mentions}
        elif c["problem"]:
            failures.append(f"{c['name']}: declares a problem but OmegaConf gave {expected!r}")
        out.append(record)
    if failures:
        sys.exit("\n".join(failures))
    return out


# --- YAML scalars: how OmegaConf's loader types a plain scalar ----------------------------------

YAML_OUT = OUT.parent / "omegaconf_yaml_cases.json"

# Plain scalars as they are written after "v: " in a config file. Each is loaded by OmegaConf
# itself; the record holds the Python type and value it produced.
YAML_SCALARS = [
    # booleans (YAML 1.1: yes/no/on/off in three spellings; y/n are not booleans in PyYAML)
    "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
    "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "tRue", "oN",
    # nulls
    "~", "null", "Null", "NULL", "", "nULL", "None",
    # integers: decimal, signs, underscores, octal with a leading 0, binary, hex
    "0", "7", "-7", "+7", "1_000", "1_000_000", "010", "0_7", "-010", "08", "09", "0o17",
    "0b101", "-0b11", "0b1_0", "0x1F", "0x_1f", "-0x10", "0X1F", "123456789012",
    # floats: PyYAML's (a dot) and OmegaConf's own rule (an exponent without a dot)
    "1.0", "1.", "-1.5", "+2.5", ".5", "-.5", "1e10", "1E10", "1e-5", "1e+5", "2.5e-3",
    # whole floats stay floats (issue 11)
    "300.0", "-0.0", "0.0", "-1.0", "+1.0", "1e16", "1_000.0",
    "1.0e5", "3.", "1_000.5", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN",
    "e5", "1e", "1.2.3", "1,000",
    # text that looks like something else
    "2024-01-01", "2024-01-01 10:00:00", "0.0.1", "v1.0", "1/2", "1-2", "=", "0x", "0b",
]

# Deliberate differences (autoexp reports an error instead of OmegaConf's value).
YAML_DEVIATIONS = {
    "1:30": "a sexagesimal number is almost always a SLURM time; 90 minutes-or-seconds is "
    "never what was meant, so autoexp asks for quotes",
    "2:00:00": "as 1:30: OmegaConf reads 7200, which as a SLURM time is five days",
    "-1:30": "as 1:30",
    "1:30.5": "as 1:30 (a sexagesimal float)",
    "12345678901234567": "beyond 2^53, which JavaScript numbers hold exactly: refused with a "
    "message asking for quotes rather than rounded",
}


def yaml_case(text):
    record = {"text": text, "type": None, "value": None, "error": None, "deviation": None}
    try:
        value = OmegaConf.to_container(OmegaConf.create(f"v: {text}\n"))["v"]
    except Exception as e:  # noqa: BLE001 - the class name is the record
        record["error"] = type(e).__name__
        return record
    record["type"] = type(value).__name__ if value is not None else "NoneType"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        record["value"] = repr(value)
    else:
        record["value"] = value
    return record


def build_yaml():
    out = [yaml_case(t) for t in YAML_SCALARS]
    for text, why in YAML_DEVIATIONS.items():
        r = yaml_case(text)
        r["deviation"] = why
        r["omegaconf"] = r["value"]
        r["value"] = None
        r["type"] = None
        r["error"] = "ConfigError"
        out.append(r)
    return out


def main():
    records = build()
    text = json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(records)} cases to {OUT}")
    scalars = build_yaml()
    YAML_OUT.write_text(json.dumps(scalars, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(scalars)} cases to {YAML_OUT}")


if __name__ == "__main__":
    main()
